/**
 * A list of images against a real registry whose every manifest answer is slow (a far link): the names are
 * resolved at once, not one after another, and a layer the images share is fetched once — for a pull of
 * the list and for the CLI's list, which names every problem while the other names resolve.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pull } from '../../src/core/pull.ts';
import { resolveRequested } from '../../src/cli/pull-list.ts';
import { type FaultProxy, always, fault, startFaultProxy } from '../support/fault-proxy.ts';
import { type PushedImage, prose, pushImage } from '../support/images.ts';
import { recordingSink } from '../support/pull-to-file.ts';
import { type Registry, startRegistry } from '../support/registry.ts';

const NAMES = 6;
const MANIFEST_DELAY_MS = 300;

let registry: Registry;
let proxy: FaultProxy;
const images: PushedImage[] = [];

before(async () => {
  registry = await startRegistry();
  const base = { compression: 'gzip' as const, files: [{ path: 'base/os.txt', content: prose(60_000, 'base') }] };
  for (let n = 1; n <= NAMES; n++)
    images.push(
      await pushImage(registry, `list/app${n}`, 'v1', {
        format: 'oci',
        layers: [
          base,
          { compression: 'gzip', files: [{ path: `app/${n}.txt`, content: prose(5_000 * n, `app ${n}`) }] },
        ],
      }),
    );
  proxy = await startFaultProxy(registry.url);
  // Every manifest answer waits, as over a far link; blobs come at once.
  proxy.setPlan(always((r) => r.path.includes('/manifests/'), fault.delay(MANIFEST_DELAY_MS)));
});
after(async () => {
  await proxy?.stop();
  await registry?.stop();
});

const references = () => images.map((image) => `${proxy.host}/${image.repository}:${image.tag}`);

test('a pull of a list asks for its names at once, and fetches the layer they share once', async () => {
  proxy.reset();
  // One blob at a time: whatever overlaps is the names being resolved.
  const { sink } = recordingSink();
  const result = await pull(references(), sink, { parallel: 1 });
  assert.equal(result.images.length, NAMES);
  assert.ok(proxy.peakInFlight >= 4, `manifests asked at once: at most ${proxy.peakInFlight} were in flight`);
  const shared = images[0]!.layers[0]!.digest;
  assert.ok(
    images.every((image) => image.layers[0]!.digest === shared),
    'the fixture shares its base layer',
  );
  const sharedGets = proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${shared}`));
  assert.equal(sharedGets.length, 1, 'the shared base layer is fetched once');
});

test("the CLI's list resolves its names at once and names every problem while the others resolve", async () => {
  proxy.reset();
  const [first, ...rest] = references();
  const text = [first, `${proxy.host}/list/missing:v1`, ...rest, 'Nginx:1.27'].join('\n');
  const { sets, problems } = await resolveRequested(
    { file: { name: 'images.txt', text }, positionals: [], platforms: [] },
    {},
  );
  assert.equal(sets.length, NAMES);
  assert.deepEqual(
    problems.map((p) => [p.where, p.code]),
    [
      ['images.txt line 2', 'not-found'],
      ['images.txt line 8', 'invalid-reference'],
    ],
  );
  assert.ok(proxy.peakInFlight >= 4, `names asked at once: at most ${proxy.peakInFlight} requests were in flight`);
});
