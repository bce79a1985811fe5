/**
 * The three ways a file leaves the page, best first:
 * - 'fsaccess': File System Access (`showSaveFilePicker`, Chromium): written straight into the file the
 *   user picked; needs a user gesture, so the picker opens before anything else is awaited.
 * - 'stream': StreamSaver — a service worker (served by us under streamsaver/) turns a stream into a normal
 *   download; needs a secure context (https or localhost).
 * - 'blob': the file is gathered as a Blob of chunk Blobs and saved at the end; works anywhere, holds the
 *   whole file until then.
 */
import type { SaveMethodChoice } from '../lib/config.ts';
import { copying, withBuffersBack } from './sink.ts';
import { serviceWorkerFile } from './stream-save.ts';

export type SaveMethod = 'fsaccess' | 'stream' | 'blob';

export interface SaveTarget {
  method: SaveMethod;
  writable: WritableStream<Uint8Array>;
  /** Stops helpers (the service-worker keep-alive); call when the download ended either way. */
  dispose(): void;
}

interface SavePickerOptions {
  suggestedName?: string;
  types?: { description?: string; accept: Record<string, string[]> }[];
  id?: string;
}

declare global {
  interface Window {
    showSaveFilePicker?: (options?: SavePickerOptions) => Promise<FileSystemFileHandle>;
  }
}

/** Where StreamSaver's helper page and worker are served from, relative to index.html (vite.config.ts copies
 *  them there at build time). */
export const STREAMSAVER_DIR = 'streamsaver/';

/** Service workers need a secure context. (Chunks reach the worker as messages, but a browser that cannot
 *  transfer a stream — WebKit — does not deliver service-worker downloads either.) */
export function canStream(): boolean {
  if (typeof window === 'undefined' || !window.isSecureContext || !('serviceWorker' in navigator)) return false;
  // WebKit does not deliver service-worker downloads (StreamSaver #69): StreamSaver itself falls back to a Blob there.
  if (/^((?!chrome|android|crios|fxios).)*safari/i.test(navigator.userAgent)) return false;
  try {
    const { readable } = new TransformStream();
    const channel = new MessageChannel();
    channel.port1.postMessage(readable, [readable]);
    channel.port1.close();
    channel.port2.close();
    return true;
  } catch {
    return false;
  }
}

export function canPickFile(): boolean {
  // Chromium refuses the picker inside cross-origin frames; a top-level secure page is what works.
  return (
    typeof window !== 'undefined' &&
    window.isSecureContext &&
    typeof window.showSaveFilePicker === 'function' &&
    window.top === window.self
  );
}

/** Why a plain Download is held in memory rather than streamed, for the page to say. */
export function blobReason(choice: SaveMethodChoice): 'chosen' | 'insecure' | 'browser' | undefined {
  if (downloadMethod(choice) !== 'blob') return undefined;
  if (choice === 'blob') return 'chosen';
  return typeof window !== 'undefined' && window.isSecureContext ? 'browser' : 'insecure';
}

/**
 * Firefox leaves two files behind when a streamed download is cancelled: an empty one under the final name
 * and the `.part` it was writing (Firefox ESR 153); the page says so.
 */
export function cancelLeavesFiles(method: SaveMethod): boolean {
  return method === 'stream' && typeof navigator !== 'undefined' && /\bFirefox\//.test(navigator.userAgent);
}

/** The method a plain Download uses. */
export function downloadMethod(choice: SaveMethodChoice): 'stream' | 'blob' {
  if (choice === 'blob') return 'blob';
  return canStream() ? 'stream' : 'blob';
}

/** Opens the save dialog. Call it first thing in a click or key handler: it needs the user's gesture. */
export function pickFile(suggestedName: string, kind: 'tar' | 'zip'): Promise<FileSystemFileHandle> {
  const picker = window.showSaveFilePicker;
  if (!picker) return Promise.reject(new Error('showSaveFilePicker is not available'));
  const accept: Record<string, string[]> =
    kind === 'zip' ? { 'application/zip': ['.zip'] } : { 'application/x-tar': ['.tar'] };
  return picker.call(window, {
    suggestedName,
    id: 'skiff',
    types: [{ description: kind === 'zip' ? 'Zip' : 'Tar', accept }],
  });
}

/**
 * Opens the file. `size`, when known before the first byte (an as-pulled tar), goes to the browser with a
 * streamed download (Content-Length), so the browser can tell a download that stops short from a finished
 * one. (Firefox ESR 153 still renames a file whose worker it stopped to its final name; see sink.ts.)
 */
export async function openTarget(
  method: SaveMethod,
  fileName: string,
  handle?: FileSystemFileHandle,
  size?: number,
): Promise<SaveTarget> {
  if (method === 'fsaccess') {
    if (!handle) throw new Error('no file handle');
    // Chromium writes to a temporary file beside it and moves it into place on close; abort deletes it.
    const writable = (await handle.createWritable()) as unknown as WritableStream<Uint8Array>;
    // A write settles once the browser has the bytes (it copies them into the file's pending data).
    return { method, writable: copying(writable), dispose: () => {} };
  }
  if (method === 'stream') return streamTarget(fileName, size);
  return { method, writable: copying(blobWritable(fileName)), dispose: () => {} };
}

async function streamTarget(fileName: string, size: number | undefined): Promise<SaveTarget> {
  const mitm = new URL(`${STREAMSAVER_DIR}mitm.html?version=${import.meta.env.STREAMSAVER_VERSION}`, document.baseURI)
    .href;
  const file = serviceWorkerFile(mitm, fileName, size);
  const writable = withBuffersBack(file.writable, () => file.takeReturned());
  const stopKeepAlive = keepWorkerAlive();
  return { method: 'stream', writable, dispose: stopKeepAlive };
}

/**
 * Browsers stop an idle service worker after about 30 s; a long download must not lose its worker. Each
 * message is an event that extends its life (sw.js ignores 'ping'); StreamSaver's helper page pings too
 * (mitm.html, for downloads whose chunks come as messages, as ours do: stream-save.ts).
 */
function keepWorkerAlive(intervalMs = 10_000): () => void {
  const scope = new URL(STREAMSAVER_DIR, document.baseURI).href;
  const ping = () => {
    navigator.serviceWorker
      .getRegistration(scope)
      .then((registration) => registration?.active?.postMessage('ping'))
      .catch(() => {});
  };
  const timer = setInterval(ping, intervalMs);
  return () => clearInterval(timer);
}

/**
 * Collects the file as a Blob made of chunk Blobs (Chromium can keep big Blobs on disk rather than in the
 * page's memory) and hands it to the browser as a download when the stream closes.
 */
function blobWritable(fileName: string): WritableStream<Uint8Array> {
  let parts: Blob[] = [];
  return new WritableStream<Uint8Array>({
    write(chunk) {
      parts.push(new Blob([chunk as Uint8Array<ArrayBuffer>]));
    },
    close() {
      const blob = new Blob(parts, { type: fileName.endsWith('.zip') ? 'application/zip' : 'application/x-tar' });
      parts = [];
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = fileName;
      link.rel = 'noopener';
      document.body.append(link);
      link.click();
      link.remove();
      // Revoking at once can cancel the download in some browsers; a minute is plenty to hand it over.
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    },
    abort() {
      parts = [];
    },
  });
}
