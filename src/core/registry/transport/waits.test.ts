import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SkiffError } from '../../errors.ts';
import { RegistryClient } from '../client.ts';
import { resumableBody } from './resume.ts';
import { DEFAULT_WAITS, scaledWaits, waitPolicy } from './waits.ts';
import { BlobStalls } from './watched-body.ts';

describe('the wait policy', () => {
  it('ends every wait in about a minute by default, and cuts no steady link', () => {
    const w = DEFAULT_WAITS;
    assert.ok(w.deadlineMs >= 45_000 && w.deadlineMs <= 90_000, `deadline ${w.deadlineMs}`);
    // Room for at least two tries of a request and three stall windows of a body within the deadline.
    assert.ok(2 * w.answerMs <= w.deadlineMs && 3 * w.idleMs <= w.deadlineMs);
    assert.ok(w.attempts >= 2 && w.attempts <= 5);
    // A link people use (a slow mobile one: 5 KiB/s) passes the rate; a drip of a few bytes a second does not.
    assert.ok(w.minBytesPerSecond <= 5 * 1024 && w.minBytesPerSecond >= 100);
    // A 4 MiB upload chunk gets its sending time on top of the answer time, but not hours.
    const chunkSendMs = ((4 * 2 ** 20) / w.uploadBytesPerSecond) * 1000;
    assert.ok(chunkSendMs >= 30_000 && chunkSendMs <= 120_000, `${chunkSendMs} ms`);
  });

  it('keeps the options that existed: idle time-out, minimum rate, tries and answer time', () => {
    const p = waitPolicy({ idleTimeoutMs: 5_000, minBytesPerSecond: 10, retry: { attempts: 2, timeoutMs: 1_000 } });
    assert.deepEqual(
      [p.idleMs, p.minBytesPerSecond, p.attempts, p.answerMs, p.deadlineMs],
      [5_000, 10, 2, 1_000, 60_000],
    );
    // A host's long stall time-out still leaves three windows.
    assert.equal(waitPolicy({ idleTimeoutMs: 120_000 }).deadlineMs, 360_000);
    assert.deepEqual(waitPolicy({ waits: scaledWaits(6_000) }), {
      ...DEFAULT_WAITS,
      deadlineMs: 6_000,
      answerMs: 2_000,
      idleMs: 2_000,
    });
  });
});

/** A fetch whose answer never comes (until the request is aborted). */
function never(init: RequestInit): Promise<Response> {
  return new Promise((_, reject) => {
    init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')), { once: true });
  });
}

describe('waits with an injected fetch', () => {
  it('a token service that never answers: one share of tries, ended by the deadline, the host named', async () => {
    let tokenRequests = 0;
    const client = new RegistryClient('registry.test', {
      waits: scaledWaits(900),
      fetch: async (url, init) => {
        if (url.startsWith('https://token.test/')) {
          tokenRequests++;
          return never(init);
        }
        return new Response('{}', {
          status: 401,
          headers: { 'www-authenticate': 'Bearer realm="https://token.test/token",service="registry"' },
        });
      },
    });
    const started = Date.now();
    await assert.rejects(client.getManifest('app', 'v1'), (error) => {
      assert.ok(error instanceof SkiffError && error.code === 'timeout', String(error));
      assert.deepEqual(error.wait, { host: 'token.test', kind: 'no-answer' });
      assert.match(error.message, /^token\.test did not answer within 0 s \(gave up after \d tries\)$/);
      return true;
    });
    const took = Date.now() - started;
    assert.ok(took >= 800 && took < 2_000, `${took} ms`);
    assert.ok(tokenRequests >= 2 && tokenRequests <= DEFAULT_WAITS.attempts, `${tokenRequests} token requests`);
  });

  const policy = { ...DEFAULT_WAITS, ...scaledWaits(900) };

  /** A body that sends `burst` bytes at once and then nothing (until cancelled). */
  function stallingBody(burst: number): Response {
    return new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new Uint8Array(burst));
        },
      }),
    );
  }

  it('a body that stalls after every burst gives up once it has made no useful progress for the deadline', async () => {
    let opens = 0;
    const started = Date.now();
    const read = async () => {
      for await (const _ of resumableBody(
        async () => {
          opens++;
          return stallingBody(1000);
        },
        { size: 1_000_000, what: 'Layer x', stalls: new BlobStalls(policy, 'registry.test'), maxResumes: 50 },
      ));
    };
    await assert.rejects(read(), (error) => {
      assert.ok(error instanceof SkiffError && error.code === 'timeout', String(error));
      assert.deepEqual(error.wait, { host: 'registry.test', kind: 'stalling' });
      assert.match(error.message, /no data for \d s after \d+ of 1000000 bytes: registry\.test kept stalling for 1 s$/);
      return true;
    });
    const took = Date.now() - started;
    assert.ok(took >= 850 && took < 1_500, `${took} ms`);
    assert.ok(opens >= 3 && opens <= 5, `${opens} requests`);
  });

  it('a slow but steady body (2 KiB/s) is never cut, though it takes longer than the deadline', async () => {
    const chunks = 15;
    const size = chunks * 205;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        controller.enqueue(new Uint8Array(205));
        if (++sent === chunks) controller.close();
      },
    });
    const started = Date.now();
    let got = 0;
    for await (const chunk of resumableBody(async () => new Response(body), {
      size,
      what: 'Layer y',
      stalls: new BlobStalls(policy, 'registry.test'),
    }))
      got += chunk.byteLength;
    assert.ok(Date.now() - started > policy.deadlineMs, 'outlasted the deadline');
    assert.equal(got, size);
  });
});
