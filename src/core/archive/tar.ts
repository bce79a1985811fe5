/**
 * A streaming tar writer (POSIX ustar, with PAX extended headers for long names and sizes of 8 GiB or
 * more). It knows nothing of HTTP or images: entries go to a ByteSink as they are produced, and an entry's
 * data is counted so a wrong size can never reach the output.
 */
import { SkiffError } from '../errors.ts';

export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
}

const BLOCK = 512;
const USTAR_MAX_SIZE = 0o77777777777; // 8 GiB - 1: the most 11 octal digits hold
const encoder = new TextEncoder();

export interface TarEntry {
  name: string;
  size: number;
  type?: 'file' | 'directory';
  mode?: number;
  /** Seconds since the epoch; fixed by default so the same image gives the same archive. */
  mtime?: number;
}

function writeString(block: Uint8Array, offset: number, length: number, value: string): void {
  block.set(encoder.encode(value).subarray(0, length), offset);
}

function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  writeString(block, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

/** A PAX record: "<len> <key>=<value>\n", where len counts the whole record, its own digits included. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLength = encoder.encode(body).byteLength;
  let length = bodyLength + String(bodyLength).length;
  // Adding the digits can add a digit (e.g. 98 + 2 = 100): then count once more.
  length = bodyLength + String(length).length;
  return `${length}${body}`;
}

/** Splits a path into ustar's prefix (155) and name (100) fields, or returns undefined when it does not fit. */
function splitUstarName(name: string): [prefix: string, name: string] | undefined {
  if (!/^[\x20-\x7e]*$/.test(name)) return undefined;
  if (name.length <= 100) return ['', name];
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (prefix.length <= 155 && rest.length <= 100 && rest.length > 0) return [prefix, rest];
    if (prefix.length <= 155) break;
  }
  return undefined;
}

function headerBlock(entry: TarEntry, name: string, prefix: string, size: number, typeflag: string): Uint8Array {
  const block = new Uint8Array(BLOCK);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, entry.mode ?? (entry.type === 'directory' ? 0o755 : 0o644));
  writeOctal(block, 108, 8, 0); // uid
  writeOctal(block, 116, 8, 0); // gid
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, entry.mtime ?? 0);
  block.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  writeString(block, 156, 1, typeflag);
  writeString(block, 257, 6, 'ustar\0');
  writeString(block, 263, 2, '00');
  writeString(block, 345, 155, prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

/** The header bytes of one entry: a PAX extended header first when the name or size needs one. */
export function encodeHeader(entry: TarEntry): Uint8Array {
  if (!Number.isSafeInteger(entry.size) || entry.size < 0)
    throw new SkiffError('invalid-argument', `tar entry ${entry.name} has invalid size ${entry.size}`);
  const typeflag = entry.type === 'directory' ? '5' : '0';
  const split = splitUstarName(entry.name);
  const records: string[] = [];
  if (!split) records.push(paxRecord('path', entry.name));
  if (entry.size > USTAR_MAX_SIZE) records.push(paxRecord('size', String(entry.size)));
  const [prefix, name] = split ?? ['', entry.name.replace(/[^\x20-\x7e]/g, '_').slice(-100)];
  const main = headerBlock(entry, name, prefix, entry.size > USTAR_MAX_SIZE ? 0 : entry.size, typeflag);
  if (records.length === 0) return main;
  const pax = encoder.encode(records.join(''));
  const paxHeader = headerBlock(
    { name: 'PaxHeader', size: pax.byteLength, mode: 0o644 },
    'PaxHeader',
    '',
    pax.byteLength,
    'x',
  );
  const out = new Uint8Array(BLOCK + padded(pax.byteLength) + BLOCK);
  out.set(paxHeader, 0);
  out.set(pax, BLOCK);
  out.set(main, BLOCK + padded(pax.byteLength));
  return out;
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

export interface EntryWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Pads the entry to a block; throws when fewer bytes came than the header declared. */
  end(): Promise<void>;
}

export class TarWriter {
  bytesWritten = 0;
  private open = false;

  constructor(private readonly sink: ByteSink) {}

  private async emit(chunk: Uint8Array): Promise<void> {
    this.bytesWritten += chunk.byteLength;
    await this.sink.write(chunk);
  }

  async addDirectory(name: string): Promise<void> {
    await this.beginEntry({ name: name.endsWith('/') ? name : `${name}/`, size: 0, type: 'directory' }).then((e) =>
      e.end(),
    );
  }

  async addFile(name: string, data: Uint8Array): Promise<void> {
    const entry = await this.beginEntry({ name, size: data.byteLength });
    await entry.write(data);
    await entry.end();
  }

  /** Starts an entry whose data is written in chunks; exactly `size` bytes must follow. */
  async beginEntry(entry: TarEntry): Promise<EntryWriter> {
    if (this.open) throw new Error('tar entry still open');
    this.open = true;
    await this.emit(encodeHeader(entry));
    let written = 0;
    const fail = (detail: string) =>
      new SkiffError('size-mismatch', `${entry.name}: ${detail} (the tar header declared ${entry.size} bytes)`);
    return {
      write: async (chunk) => {
        written += chunk.byteLength;
        if (written > entry.size) throw fail(`more data than expected (${written} bytes so far)`);
        await this.emit(chunk);
      },
      end: async () => {
        if (written !== entry.size) throw fail(`only ${written} bytes arrived`);
        const pad = padded(entry.size) - entry.size;
        if (pad) await this.emit(new Uint8Array(pad));
        this.open = false;
      },
    };
  }

  /** Two zero blocks end the archive. */
  async finish(): Promise<void> {
    await this.emit(new Uint8Array(BLOCK * 2));
  }
}
