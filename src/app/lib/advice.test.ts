import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SkiffError, type SkiffErrorCode } from '../../core/errors.ts';
import { relayRefusal } from '../../core/registry/transport/relay.ts';
import { parseReference } from '../../core/image/reference.ts';
import { en } from '../i18n/en.ts';
import { translatedValidation } from '../i18n/validation.ts';
import { zh } from '../i18n/zh.ts';
import { adviceFor, choosablePlatform } from './advice.ts';
import { FileStalledError } from '../engine/sink.ts';

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
