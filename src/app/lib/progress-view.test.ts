/** The download's figures: one model of speed and time left for the rows and the total. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BlobProgress, BlobState, TransferProgress } from '../../core/pull.ts';
import { ETA_AFTER_MS, ProgressTracker, WindowRate } from './progress-view.ts';
import { fakeImage } from '../../../test/support/fake-image.ts';

const layer = (digest: string, size: number, received: number, state: BlobState): BlobProgress => ({
  image: 0,
  digest,
  mediaType: 'x',
  size,
  bytes: received,
  state,
});

const snapshot = (layers: BlobProgress[]): TransferProgress => ({
  blobs: layers,
  bytes: layers.reduce((s, l) => s + l.bytes, 0),
  totalBytes: layers.reduce((s, l) => s + l.size, 0),
  written: 0,
});

describe('time left', () => {
  it('says nothing until bytes have flowed a while, and then about the truth', () => {
    const tracker = new ProgressTracker('tar', [fakeImage('example.test/a:v1', [10_000_000])], 'uncompressed');
    const progress = (received: number) => snapshot([layer('sha256:a', 10_000_000, received, 'downloading')]);
    // Ten seconds of start-up (sign-in, worker, size probes) with no bytes: not a slow line.
    for (let t = 0; t <= 10_000; t += 1000) {
      tracker.update(0, progress(0));
      assert.equal(tracker.view(t).eta, undefined);
    }
    // Then 1 MB/s.
    let seen: number | undefined;
    for (let t = 10_200; t <= 15_000; t += 200) {
      const received = ((t - 10_000) / 1000) * 1_000_000;
      tracker.update(0, progress(received));
      const view = tracker.view(t);
      if (t - 10_200 < ETA_AFTER_MS) assert.equal(view.eta, undefined, `at ${t}`);
      else seen = view.eta;
      if (view.rows[0]!.eta !== undefined) assert.ok(t - 10_200 >= ETA_AFTER_MS);
    }
    assert.ok(seen !== undefined && Math.abs(seen - 5) < 1, `said ${seen} s with 5 s to go`);
  });

  it('never gives a row more time left than the total, with layers fetched side by side at unequal speeds', () => {
    const sizes = [30_000_000, 30_000_000, 5_000_000];
    const tracker = new ProgressTracker('tar', [fakeImage('example.test/a:v1', sizes)], 'as-pulled');
    for (let t = 0; t <= 20_000; t += 250) {
      // Layer 0 gets a tenth of the line, layer 1 the rest; layer 2 has all its bytes and is being written.
      const a = Math.min(sizes[0]!, 100_000 * (t / 1000));
      const b = Math.min(sizes[1]!, 1_400_000 * (t / 1000));
      tracker.update(
        0,
        snapshot([
          layer('sha256:a', sizes[0]!, a, 'downloading'),
          layer('sha256:b', sizes[1]!, b, 'downloading'),
          layer('sha256:c', sizes[2]!, sizes[2]!, 'downloading'),
        ]),
      );
      const view = tracker.view(t);
      for (const row of view.rows)
        if (row.eta !== undefined) assert.ok(view.eta !== undefined && row.eta <= view.eta, `${row.key} at ${t}`);
      if (t >= 5000) {
        assert.ok(view.rows[0]!.eta !== undefined, 'the slow row still tells its time');
        // All bytes in: it is being written, and says no speed or time as if it were still downloading.
        assert.equal(view.rows[2]!.state, 'writing');
        assert.equal(view.rows[2]!.eta, undefined);
        assert.equal(view.rows[2]!.speed, undefined);
      }
    }
  });
});

describe('speed', () => {
  it('is never 0 while bytes moved within the window, and none once nothing moved for the whole window', () => {
    const rate = new WindowRate(5000);
    rate.add(1_000, 0);
    rate.add(2_000, 1000);
    // Bytes moved at 1 s; readings at 2–5.5 s see no more but still a rate above 0.
    for (let t = 2000; t <= 5500; t += 500) {
      rate.add(2_000, t);
      const r = rate.rate(t);
      assert.ok(r !== undefined && r > 0, `at ${t}: ${r}`);
    }
    // Six seconds after the last byte: no rate (shown as "–"), not "0 B/s".
    rate.add(2_000, 7000);
    assert.equal(rate.rate(7000), undefined);
  });

  it('follows a change in speed within the window', () => {
    const rate = new WindowRate(5000);
    for (let t = 0; t <= 10_000; t += 500) rate.add(1 + t * 1000, t); // 1 MB/s
    for (let t = 10_500; t <= 16_000; t += 500) rate.add(1 + 10_000_000 + (t - 10_000) * 100, t); // 100 kB/s
    const r = rate.rate(16_000)!;
    assert.ok(Math.abs(r - 100_000) < 1000, String(r));
  });
});
