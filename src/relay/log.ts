/**
 * The relay's access log: one line per request, written when its answer (body included) ends. Paths are
 * logged without their query, and nothing from the request's headers: no credentials reach the log.
 */
export interface AccessLog {
  /** The registry host, once the path named a valid one. */
  host: string;
  /** The path, or the registry path once the route is known. */
  path: string;
  finish(status: number, bytes: number | undefined, note?: string): void;
}

export function accessLog(method: string, write: (line: string) => void, now: () => number): AccessLog {
  const started = now();
  const entry: AccessLog = {
    host: '-',
    path: '-',
    finish(status, bytes, note = '') {
      write(
        `${new Date(started).toISOString()} ${clean(method)} ${entry.host} ${clean(entry.path)} ${status} ${bytes ?? '?'}B ${Math.round(now() - started)}ms${note ? ` ${note}` : ''}`,
      );
    },
  };
  return entry;
}

/** Log-safe text: printable ASCII only, bounded. */
export function clean(text: string): string {
  const printable = text.replace(/[^\x21-\x7e]/g, '?');
  return printable.length > 300 ? `${printable.slice(0, 300)}...` : printable;
}

/** An error's message with its cause's, as Node's fetch and sockets report them. */
export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    return `${error.message}${detail}`;
  }
  return String(error);
}
