/**
 * The one place a layer's planned action may change, once bytes are seen: the gzip trailer's ISIZE gives
 * the inflated size (or cannot), and the first few MiB of the layer show whether a second gzip member
 * starts (then ISIZE describes only the last one) and, for a small layer, its exact size.
 */
import { OutputLimit } from '../codecs/decoder.ts';
import { GunzipDecoder } from '../codecs/gunzip.ts';
import { ZstdContentSize } from '../codecs/zstd-size.ts';
import { planLayerSize } from '../image/layer-size.ts';
import type { RegistryClients } from '../registry/pool.ts';
import type { ResolvedImage } from '../registry/resolve.ts';
import { type LayerAction, type PlannedLayer, ZSTD_HOLD_BYTES } from './plan.ts';

/** How much compressed input may be held to look at a gzip layer before its tar header is written. */
const LOOKAHEAD_INPUT = 8 * 2 ** 20;
const LOOKAHEAD_OUTPUT = 64 * 2 ** 20;

/** What a layer written inflated or kept compressed comes to, once settled. */
export type SettledAction = { kind: 'inflate'; size: number | undefined } | { kind: 'keep-compressed'; reason: string };

/**
 * Reads the gzip trailer (last 8 bytes, one small Range request each, `parallel` at once) of every layer
 * whose size it should tell. Undefined where Range is not served.
 */
export async function readTrailers(
  plan: PlannedLayer[],
  images: Pick<ResolvedImage, 'reference'>[],
  clients: RegistryClients,
  parallel: number,
  signal: AbortSignal | undefined,
  onRequest: () => void,
): Promise<Map<number, Uint8Array | undefined>> {
  const wanted = plan
    .map((layer, index) => ({ layer, index }))
    .filter(
      ({ layer }) =>
        layer.sharedWith === undefined &&
        layer.action.kind === 'inflate' &&
        layer.action.sizeFrom === 'gzip-trailer' &&
        !layer.foreign,
    );
  const tails = new Map<number, Uint8Array | undefined>();
  let next = 0;
  const worker = async () => {
    while (next < wanted.length) {
      const { layer, index } = wanted[next++]!;
      const image = images[layer.image]!;
      onRequest();
      const { descriptor } = layer;
      tails.set(
        index,
        await clients
          .for(image.reference.registry)
          .blobTail(image.reference.repository, descriptor.digest, descriptor.size, 8, signal),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, parallel), wanted.length) }, worker));
  return tails;
}

/** The action before the look-ahead: a trailer read settles the size, or says the layer stays compressed. */
export function settleBeforeLookahead(
  layer: PlannedLayer,
  action: Extract<LayerAction, { kind: 'inflate' | 'keep-compressed' }>,
  trailer: Uint8Array | undefined,
): SettledAction {
  if (action.kind === 'keep-compressed') return action;
  if (action.sizeFrom !== 'gzip-trailer') return { kind: 'inflate', size: action.size };
  const sized = planLayerSize(layer.descriptor, 'gzip', trailer);
  if (sized.kind === 'exact') return { kind: 'inflate', size: sized.size };
  if (sized.kind === 'keep-compressed') return sized;
  return { kind: 'inflate', size: undefined };
}

/**
 * Looks at the start of a gzip layer (inflating only to look) and settles its action: kept compressed when
 * a second member starts (unless `sizeStated`: the manifest states the whole layer's size, as eStargz's
 * annotation does, where a trailer tells only the last member's), or when its size is unknown and the
 * layer does not end within the look; the exact count when it does. What was read is replayed in front of
 * the rest: the layer is fetched once.
 */
export async function lookAhead(
  source: AsyncIterable<Uint8Array>,
  settled: SettledAction,
  what: string,
  maxLayerBytes: number,
  sizeStated = false,
): Promise<{ action: SettledAction; source: AsyncIterable<Uint8Array> }> {
  const iterator = source[Symbol.asyncIterator]();
  const held: Uint8Array[] = [];
  const probe = new GunzipDecoder(what, { reuseOutput: true });
  const limit = new OutputLimit(maxLayerBytes, what);
  let input = 0;
  let output = 0;
  let ended = false;
  while (input < LOOKAHEAD_INPUT && output < LOOKAHEAD_OUTPUT && !probe.multiMember) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    held.push(next.value);
    input += next.value.byteLength;
    // One network chunk of a layer of zeros can inflate to a GiB: stop looking as soon as enough is seen.
    for (const out of limit.count(probe.push(next.value))) {
      output += out.byteLength;
      if (output >= LOOKAHEAD_OUTPUT || probe.multiMember) break;
    }
  }
  if (ended) for (const out of limit.count(probe.finish())) output += out.byteLength;
  async function* replay() {
    yield* held;
    held.length = 0;
    if (ended) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  const counted = ended && !probe.multiMember ? output : undefined;
  let action: SettledAction;
  if (probe.multiMember && !(sizeStated && settled.kind === 'inflate'))
    action = { kind: 'keep-compressed', reason: 'multi-member gzip' };
  else if (counted !== undefined) action = { kind: 'inflate', size: counted };
  else if (settled.kind === 'keep-compressed') action = settled;
  else if (settled.size === undefined) action = { kind: 'keep-compressed', reason: 'its size cannot be known ahead' };
  else action = settled;
  return { action, source: replay() };
}

/** What reading a zstd blob's frame headers settled. */
export interface ZstdLook {
  /** The inflated size every frame stated, or undefined: the blob must be inflated to count it. */
  size: number | undefined;
  /**
   * The blob again from its first byte, when its bytes were still held (a blob read whole, or one whose
   * frames stopped stating sizes early); undefined when they are gone and the blob must be fetched again.
   */
  again: (() => AsyncIterable<Uint8Array>) | undefined;
}

/**
 * Reads a zstd blob to its end through its frame headers, inflating nothing (zstd-size.ts). `holdWhole`
 * (a blob the plan fetches once) keeps every byte to replay; otherwise bytes are kept only while they fit
 * ZSTD_HOLD_BYTES and the size is still unsettled, so that a blob whose first frame states no size can be
 * measured from what is held without a further fetch. A stated size is not trusted blindly: the copy that
 * writes the layer counts what it inflates and fails on any difference.
 */
export async function lookAheadZstd(source: AsyncIterable<Uint8Array>, holdWhole: boolean): Promise<ZstdLook> {
  const sizer = new ZstdContentSize();
  const iterator = source[Symbol.asyncIterator]();
  let held: Uint8Array[] | undefined = [];
  let heldBytes = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    sizer.push(next.value);
    if (held) {
      held.push(next.value);
      heldBytes += next.value.byteLength;
      if (!holdWhole && heldBytes > ZSTD_HOLD_BYTES) held = undefined;
    }
    if (sizer.unknown && held && !holdWhole) {
      // The rest is read once more only to measure it: replay what is held, then continue the same read.
      const start = held;
      let taken = false;
      return {
        size: undefined,
        again: () => {
          if (taken) throw new Error('a zstd blob read only once was asked for twice');
          taken = true;
          return (async function* () {
            yield* start;
            for (;;) {
              const more = await iterator.next();
              if (more.done) return;
              yield more.value;
            }
          })();
        },
      };
    }
  }
  const size = sizer.size();
  const whole = held;
  return {
    size,
    again: whole
      ? async function* () {
          yield* whole;
        }
      : undefined,
  };
}

/** The note for a zstd layer that a kept-mode pull stores inflated. */
export function zstdNote(what: string): string {
  return `${what} is zstd-compressed, which Docker before 23 cannot load: it is stored uncompressed, so this image's manifest in the archive is new (its image ID stays).`;
}
