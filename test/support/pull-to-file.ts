/** Runs the engine from a test the way the CLI does: into a file through a Web WritableStream. */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { type PullOptions, type PullResult, pull } from '../../src/core/pull.ts';

export function fileSink(path: string): WritableStream<Uint8Array> {
  return Writable.toWeb(createWriteStream(path)) as WritableStream<Uint8Array>;
}

/** A sink that keeps what it was given and remembers whether it was closed (complete) or aborted. */
export function recordingSink() {
  const chunks: Uint8Array[] = [];
  const state = { closed: false, aborted: undefined as unknown };
  const sink = new WritableStream<Uint8Array>({
    write: (chunk) => void chunks.push(chunk.slice()),
    close: () => void (state.closed = true),
    abort: (reason) => void (state.aborted = reason ?? true),
  });
  return { sink, state, bytes: () => Buffer.concat(chunks) };
}

export function pullToFile(refs: string[], path: string, options: PullOptions = {}): Promise<PullResult> {
  return pull(refs, fileSink(path), options);
}

/** Entry names and sizes of a tar file, read with GNU tar. */
export async function tarEntries(path: string): Promise<Map<string, Buffer>> {
  const { execFileSync } = await import('node:child_process');
  const names = execFileSync('tar', ['-tf', path], { encoding: 'utf8', maxBuffer: 1 << 26 })
    .split('\n')
    .filter(Boolean);
  const entries = new Map<string, Buffer>();
  for (const name of names) {
    const small = !name.startsWith('blobs/sha256/') || name.length < 20;
    entries.set(name, small ? execFileSync('tar', ['-xOf', path, name], { maxBuffer: 1 << 26 }) : Buffer.alloc(0));
  }
  return entries;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any JSON file of an archive; tests read the fields they assert
export async function readJsonFromTar(path: string, name: string): Promise<any> {
  const { execFileSync } = await import('node:child_process');
  return JSON.parse(execFileSync('tar', ['-xOf', path, name], { encoding: 'utf8' }));
}

export { readFile };
