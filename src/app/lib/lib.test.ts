import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSha256 } from '../../core/codecs/sha256.ts';
import { SkiffError, type SkiffErrorCode } from '../../core/errors.ts';
import { relayRefusal } from '../../core/transport/relay.ts';
import { parseReference } from '../../core/reference.ts';
import { en } from '../i18n/en.ts';
import { translatedValidation } from '../i18n/validation.ts';
import { zh } from '../i18n/zh.ts';
import { adviceFor, choosablePlatform } from './advice.ts';
import { absoluteRelay, isRelayUrl, loadHostConfig, parseHostList, sanitizeSettings } from './config.ts';
import { formatBytes, formatDuration } from './format.ts';
import { archiveName, imageFileStem, safeName, uniqueNames } from './names.ts';
import { FileSizeError, FileStalledError, outputStream } from '../engine/sink.ts';
import { loadPs1, loadSh, sha256sums } from '../engine/zipkit.ts';

describe('file names', () => {
  const amd64 = { os: 'linux', architecture: 'amd64' };
  it('names a tar after the image, its tag and a chosen platform', () => {
    assert.equal(imageFileStem(parseReference('nginx:1.27'), amd64, false), 'nginx_1.27');
    assert.equal(
      imageFileStem(parseReference('ghcr.io/owner/app:v1'), { os: 'linux', architecture: 'arm', variant: 'v7' }, true),
      'ghcr.io_owner_app_v1_linux-arm-v7',
    );
    assert.equal(imageFileStem(parseReference('ghcr.io/owner/app:v1'), amd64, true), 'ghcr.io_owner_app_v1');
    assert.equal(imageFileStem(parseReference(`alpine@sha256:${'a'.repeat(64)}`), amd64, false), 'alpine_aaaaaaaaaaaa');
  });
  it('keeps only safe characters', () => {
    assert.equal(safeName('../../etc/passwd'), 'etc_passwd');
    assert.equal(safeName('a b;c$(rm)'), 'a_b_c_rm');
    assert.equal(safeName('***'), 'image');
  });
  it('uses a fixed name, or the stem, or a count', () => {
    assert.equal(archiveName(['nginx_1.27'], '', 'tar'), 'nginx_1.27.tar');
    assert.equal(archiveName(['a', 'b', 'c'], '', 'zip'), 'images-3.zip');
    assert.equal(archiveName(['a'], 'bundle', 'tar'), 'bundle.tar');
    assert.equal(archiveName(['a'], 'bundle.tar', 'zip'), 'bundle.zip');
    assert.equal(archiveName(['a'], 'x/y:z', 'tar'), 'x_y_z.tar');
    assert.deepEqual(uniqueNames(['a', 'b', 'a'], '.tar'), ['a.tar', 'b.tar', 'a-2.tar']);
  });
});

describe('settings from outside', () => {
  it('keeps valid fields only', () => {
    assert.deepEqual(
      sanitizeSettings({
        relay: '/relay/',
        dockerHubMirror: 'mirror.corp:5000',
        plainHttp: ['reg.corp', 'not a host'],
        layers: 'as-pulled',
        outputName: ' x ',
        saveMethod: 'blob',
        parallel: 8,
        hashFile: true,
        extra: 1,
      }),
      {
        relay: '/relay/',
        dockerHubMirror: 'mirror.corp:5000',
        plainHttp: ['reg.corp'],
        layers: 'as-pulled',
        outputName: 'x',
        saveMethod: 'blob',
        parallel: 8,
        hashFile: true,
      },
    );
    assert.deepEqual(
      sanitizeSettings({ relay: 'javascript:alert(1)', layers: 'zip', saveMethod: 'fsaccess', hashFile: 'yes' }),
      {},
    );
    for (const parallel of [0, 17, 2.5, '4']) assert.deepEqual(sanitizeSettings({ parallel }), {});
    assert.deepEqual(sanitizeSettings('nope'), {});
  });
  it('reads relay URLs absolute or relative to the page', () => {
    assert.equal(isRelayUrl('https://skiff.example.com/relay/'), true);
    assert.equal(isRelayUrl('./relay/'), true);
    assert.equal(isRelayUrl('relay'), false);
    assert.equal(isRelayUrl('ftp://x/'), false);
    assert.equal(absoluteRelay('/relay/', 'https://intranet/tools/skiff/index.html'), 'https://intranet/relay');
    assert.equal(absoluteRelay('./relay/', 'https://intranet/tools/skiff/'), 'https://intranet/tools/skiff/relay');
    assert.equal(absoluteRelay('  '), undefined);
  });
  it("reads the host's config.json: language and bounded stall and write time-outs beside the settings", async () => {
    const serve = (body: unknown) => (async () => new Response(JSON.stringify(body))) as unknown as typeof fetch;
    assert.deepEqual(await loadHostConfig(serve({ layers: 'as-pulled', language: 'zh', stallTimeoutSeconds: 15 })), {
      layers: 'as-pulled',
      language: 'zh',
      stallTimeoutSeconds: 15,
    });
    assert.equal((await loadHostConfig(serve({ stallTimeoutSeconds: 0 }))).stallTimeoutSeconds, 1);
    assert.equal((await loadHostConfig(serve({ stallTimeoutSeconds: 1e9 }))).stallTimeoutSeconds, 3600);
    assert.equal((await loadHostConfig(serve({ stallTimeoutSeconds: '30' }))).stallTimeoutSeconds, undefined);
    assert.equal((await loadHostConfig(serve({ writeTimeoutSeconds: 5 }))).writeTimeoutSeconds, 5);
    assert.equal((await loadHostConfig(serve({ writeTimeoutSeconds: -1 }))).writeTimeoutSeconds, 1);
    assert.equal((await loadHostConfig(serve({ writeTimeoutSeconds: null }))).writeTimeoutSeconds, undefined);
    assert.deepEqual(
      await loadHostConfig((async () => new Response('<html>', { status: 200 })) as unknown as typeof fetch),
      {},
    );
  });
  it('splits host lists', () => {
    assert.deepEqual(parseHostList('a.corp, b.corp:5000 [::1]:5000;;bad/host'), {
      hosts: ['a.corp', 'b.corp:5000', '[::1]:5000'],
      invalid: ['bad/host'],
    });
  });
});

describe('advice', () => {
  it('points to the relay for a network failure, or at the relay when one is set', () => {
    const direct = adviceFor(new SkiffError('network', 'Could not reach x'), en);
    assert.equal(direct.lines[1], en.advice.networkFix);
    assert.equal(direct.detail, 'Could not reach x');
    const relayed = adviceFor(new SkiffError('network', 'Could not reach x'), en, { relay: 'https://r/relay' });
    assert.match(relayed.lines[0]!, /https:\/\/r\/relay/);
  });
  it('tells each of the relay’s own refusals with the setting that would let it through', () => {
    const relay = 'http://127.0.0.1:8080/relay';
    const told = (status: number, code: string, message: string) => {
      const error = relayRefusal(status, JSON.stringify({ error: { code, message } }));
      assert.ok(error, code);
      // After a trip through the worker only the message is left: it must tell the same.
      const revived = new SkiffError(error.code, error.message);
      assert.deepEqual(adviceFor(revived, en, { relay }).lines, adviceFor(error, en, { relay }).lines);
      return adviceFor(error, en, { relay }).lines.join(' ');
    };
    assert.match(
      told(403, 'host-not-allowed', "r.example:5000 is not on this relay's allowlist (RELAY_ALLOW)."),
      /relay at http:\/\/127\.0\.0\.1:8080\/relay refused to contact r\.example:5000.*add r\.example:5000 to RELAY_ALLOW\..*clear Relay URL/,
    );
    assert.match(
      told(403, 'private-address', '10.0.0.5:5000 is a private, loopback or link-local address; …'),
      /add 10\.0\.0\.5:5000 to RELAY_ALLOW_PRIVATE/,
    );
    assert.match(
      told(
        502,
        'upstream-unreachable',
        'Could not reach r.lab:5000: write EPROTO …:SSL routines:ssl3_get_record:wrong version number',
      ),
      /add r\.lab:5000 to RELAY_PLAIN_HTTP/,
    );
    assert.match(
      told(502, 'upstream-unreachable', 'Could not reach nope.invalid: getaddrinfo ENOTFOUND nope.invalid'),
      /could not find nope\.invalid.*DNS/,
    );
    assert.match(told(502, 'upstream-unreachable', 'Could not reach h:1: connect ECONNREFUSED 127.0.0.1:1'), /refused/);
    assert.match(
      told(429, 'rate-limited', 'Too many requests from this client; try again in 5 s.'),
      /RELAY_RATE_LIMIT/,
    );
    assert.match(
      told(403, 'redirect-not-allowed', 'r.lab redirected to cdn.lab, which this relay does not reach: …'),
      /add cdn\.lab to RELAY_ALLOW/,
    );
    // A registry's own error body is not the relay's.
    assert.equal(relayRefusal(404, JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN' }] })), undefined);
  });
  it('says what docker pull says when Docker Hub refuses an anonymous pull', () => {
    const reference = parseReference('nosuchuser/nope');
    const lines = adviceFor(new SkiffError('unauthorized', 'x'), en, { reference }).lines;
    assert.equal(
      lines[0],
      "pull access denied for nosuchuser/nope, repository does not exist or may require 'docker login'",
    );
  });
  it('gives every error code a Chinese explanation', () => {
    const codes: SkiffErrorCode[] = [
      'invalid-reference',
      'invalid-argument',
      'unauthorized',
      'denied',
      'not-found',
      'network',
      'timeout',
      'http',
      'rate-limited',
      'bad-challenge',
      'bad-token',
      'bad-manifest',
      'unsupported',
      'platform-not-found',
      'digest-mismatch',
      'size-mismatch',
      'bad-layer',
      'malformed-layer',
      'relay-refused',
      'too-large',
      'aborted',
    ];
    for (const code of codes) assert.match(zh.technicalCode(code) ?? '', /[\u4e00-\u9fff]/, code);
  });
  it('tells every reason a name is refused in Chinese', () => {
    const inputs = [
      '',
      ' a b',
      'https://ghcr.io/x',
      'a'.repeat(64),
      `sha256:${'a'.repeat(64)}`,
      'localhost/',
      'Nginx',
      'a//b',
      'a/-b',
      `${'a/'.repeat(130)}b`,
      '[::1]',
      '[::1/x',
      '[zz]/x',
      '[::1]x/y',
      'fe80::1:5000/x',
      'bad_host.com:5000/x',
      'host.com:abc/x',
      'host.com:70000/x',
      'x:',
      `x:${'a'.repeat(129)}`,
      'x:-a',
      'x:a$b',
      'x@',
      'x@abc',
      'x@SHA:abc',
      'x@sha256:ABC',
      'x@sha256:abc',
      `x@foo:${'a'.repeat(8)}`,
    ];
    for (const input of inputs) {
      let message = '';
      try {
        parseReference(input);
      } catch (error) {
        message = (error as Error).message;
      }
      assert.notEqual(message, '', `${JSON.stringify(input)} is refused`);
      const told = translatedValidation(message, 'zh');
      assert.ok(told, `no Chinese for: ${message}`);
      assert.doesNotMatch(told.replace(/“[^”]*”/g, ''), /[A-Za-z]{3,} [A-Za-z]{3,}/, told);
    }
  });
  it('tells missing credentials from wrong ones', () => {
    assert.equal(adviceFor(new SkiffError('unauthorized', 'x'), en).lines[0], en.advice.signIn);
    assert.equal(
      adviceFor(new SkiffError('unauthorized', 'x'), en, { hadCredentials: true }).lines[0],
      en.advice.unauthorized,
    );
  });
  it('names the host that did not answer, sent too slowly or kept stalling, in both languages', () => {
    const told = (kind: 'no-answer' | 'too-slow' | 'stalling', m: typeof en) =>
      adviceFor(new SkiffError('timeout', 'engine text', { wait: { host: 'harbor.corp:8443', kind } }), m);
    assert.match(told('no-answer', en).lines[0]!, /^harbor\.corp:8443 did not answer/);
    assert.match(told('too-slow', en).lines[0]!, /^harbor\.corp:8443 answered far too slowly/);
    assert.match(told('stalling', en).lines[0]!, /^harbor\.corp:8443 kept stalling/);
    assert.match(told('no-answer', zh).lines[0]!, /^harbor\.corp:8443 没有应答/);
    assert.match(told('stalling', zh).lines[0]!, /^harbor\.corp:8443 的传输反复中途停止/);
    assert.equal(told('too-slow', en).detail, 'engine text');
  });
  it('says a stopped file is incomplete, and what a Firefox cancel leaves in Downloads', () => {
    const stalled = adviceFor(new FileStalledError(5, 512), en);
    assert.match(stalled.lines[0]!, /nothing for 5 s.*incomplete/);
    assert.equal(stalled.cancelled, undefined);
    const aborted = new SkiffError('aborted', 'The pull was cancelled.');
    assert.deepEqual(adviceFor(aborted, en).lines, [en.cancelled]);
    assert.deepEqual(adviceFor(aborted, en, { cancelLeavesFiles: true }).lines, [en.cancelled, en.cancelledFiles]);
    assert.match(adviceFor(aborted, zh, { cancelLeavesFiles: true }).lines[1]!, /\.part/);
  });
  it('lists the platforms that exist', () => {
    const advice = adviceFor(
      new SkiffError('platform-not-found', 'No image for linux/s390x here.', {
        platforms: ['linux/amd64', 'linux/arm64'],
      }),
      zh,
    );
    assert.deepEqual(advice.platforms, ['linux/amd64', 'linux/arm64']);
    assert.equal(advice.lines[1], '可用平台：linux/amd64, linux/arm64');
  });
  it('names every platform an index lists, but offers only those that can be chosen', () => {
    const odd = '<img src=x>/amd64';
    const advice = adviceFor(new SkiffError('platform-not-found', 'x', { platforms: [odd, 'linux/arm64/v8'] }), en);
    assert.deepEqual(advice.platforms, ['linux/arm64/v8']);
    assert.match(advice.lines[1]!, /<img src=x>\/amd64, linux\/arm64\/v8/);
    assert.equal(choosablePlatform('linux/arm/v7'), true);
    assert.equal(choosablePlatform(odd), false);
  });
  it('calls a cancel a cancel', () => {
    assert.equal(adviceFor(new SkiffError('aborted', 'x'), en).cancelled, true);
    assert.equal(
      adviceFor(new DOMException('closed', 'AbortError'), en, { saving: true }).lines[0],
      en.advice.saveAborted,
    );
  });
});

describe('formatting', () => {
  it('prints sizes as docker does and durations in both languages', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1420), '1.42 kB');
    assert.equal(formatBytes(123_456_789), '123 MB');
    assert.equal(formatDuration(75, 'en'), '1 min 15 s');
    assert.equal(formatDuration(3700, 'zh'), '1 小时 1 分');
    assert.equal(formatDuration(undefined, 'en'), '–');
    assert.equal(formatDuration(0.4, 'en'), '1 s', 'a moment left is not "0 s"');
  });
});

describe('every string translated', () => {
  it('has the same keys in English and Chinese', () => {
    const keys = (o: object, prefix = ''): string[] =>
      Object.entries(o).flatMap(([k, v]) =>
        typeof v === 'object' && v ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`],
      );
    assert.deepEqual(keys(zh).sort(), keys(en).sort());
  });
});

describe('offline kit scripts', () => {
  const tars = [
    { name: 'a_v1.tar', size: 1, sha256: 'ab'.repeat(32) },
    { name: "it's.tar", size: 1, sha256: 'cd'.repeat(32) },
  ];
  it('lists sums in sha256sum format and quotes names for each shell', () => {
    assert.equal(sha256sums(tars), `${'ab'.repeat(32)}  a_v1.tar\n${'cd'.repeat(32)}  it's.tar\n`);
    assert.match(loadSh(tars), /for file in a_v1\.tar 'it'\\''s\.tar'; do/);
    assert.match(loadPs1(tars), /@\('a_v1\.tar', 'it''s\.tar'\)/);
  });
});

describe('the stream into the file', () => {
  it('hashes every byte, gathers small writes, and waits for the file', async () => {
    const received: number[] = [];
    let release: (() => void) | undefined;
    const slow = new WritableStream<Uint8Array>(
      {
        write: (chunk) =>
          new Promise<void>((resolve) => {
            received.push(chunk.byteLength);
            release = resolve;
          }),
      },
      { highWaterMark: 1 },
    );
    const hash = await createSha256();
    const sink = outputStream(slow, { hash, chunkSize: 10 });
    const writer = sink.getWriter();
    const data = new Uint8Array(25).map((_, i) => i);
    const first = writer.write(data.subarray(0, 12));
    // The file holds the first 10 bytes and has not taken them yet: the engine's write is still pending.
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(received, [10]);
    let settled = false;
    void first.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(settled, false);
    release!();
    await first;
    const rest = writer.write(data.subarray(12));
    await new Promise((r) => setTimeout(r, 10));
    release!();
    await rest;
    const closing = writer.close();
    await new Promise((r) => setTimeout(r, 10));
    release!();
    await closing;
    assert.equal(
      received.reduce((a, b) => a + b, 0),
      25,
    );
    assert.equal(await hash.digest(), `sha256:${createHash('sha256').update(data).digest('hex')}`);
  });

  it('aborts the file at once on cancel, even with a write stuck', async () => {
    let aborted: unknown;
    const stuck = new WritableStream<Uint8Array>({
      write: () => new Promise<void>(() => {}),
      abort: (reason) => {
        aborted = reason;
      },
    });
    const controller = new AbortController();
    const sink = outputStream(stuck, { hash: await createSha256(), chunkSize: 4, signal: controller.signal });
    const writer = sink.getWriter();
    const pending = writer.write(new Uint8Array(8));
    controller.abort(new Error('cancelled'));
    await assert.rejects(pending);
    assert.match(String(aborted), /cancelled/);
  });

  it('ends the download when the browser stops taking the file (a stopped download worker)', async () => {
    let aborted: unknown;
    let taken = 0;
    // Takes the first write, then holds the next far past the time-out: what a page sees once Firefox stopped
    // the download's worker.
    const stopped = new WritableStream<Uint8Array>({
      write: () => (taken++ === 0 ? Promise.resolve() : new Promise<void>((r) => setTimeout(r, 300))),
      abort: (reason) => {
        aborted = reason;
      },
    });
    const sink = outputStream(stopped, { hash: await createSha256(), chunkSize: 4, writeTimeoutMs: 50 });
    const writer = sink.getWriter();
    await writer.write(new Uint8Array(4));
    const started = Date.now();
    await assert.rejects(writer.write(new Uint8Array(4)), (error) => {
      assert.ok(error instanceof FileStalledError);
      assert.equal(error.written, 4);
      return true;
    });
    assert.ok(Date.now() - started < 250, 'the page stops waiting at the time-out, not when the write settles');
    // A stream delivers an abort once its write in flight settles: then the file ends failed, never closed.
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(aborted instanceof FileStalledError);
  });

  it('aborts a file that ends short of, or runs past, the size it was announced with', async () => {
    for (const [bytes, expectedSize] of [
      [6, 8],
      [10, 8],
    ] as const) {
      let aborted: unknown;
      let closed = false;
      const file = new WritableStream<Uint8Array>({
        close: () => {
          closed = true;
        },
        abort: (reason) => {
          aborted = reason;
        },
      });
      const sink = outputStream(file, { hash: await createSha256(), chunkSize: 4, expectedSize });
      const writer = sink.getWriter();
      const wrote = writer.write(new Uint8Array(bytes)).then(() => writer.close());
      await assert.rejects(wrote, FileSizeError);
      assert.ok(aborted instanceof FileSizeError, `${bytes} of ${expectedSize} bytes: aborted`);
      assert.equal(closed, false);
    }
    // Exactly the size: closes as usual.
    const sink = outputStream(new WritableStream(), { hash: await createSha256(), chunkSize: 4, expectedSize: 8 });
    const writer = sink.getWriter();
    await writer.write(new Uint8Array(8));
    await writer.close();
  });
});
