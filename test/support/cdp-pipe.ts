/**
 * Debian's Chromium driven over the DevTools protocol on a pipe, with nothing attached but what a test asks
 * for. Playwright enables the Network domain in every page and worker it attaches to, and Chromium's
 * DevTools then keeps copies of response bodies in the renderer (up to ~200 MB): right for debugging, wrong
 * for measuring a page's memory. Here only the page's session is attached, with Page and Runtime only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { chromiumPath } from '../e2e/harness.ts';

type Handler = (params: Record<string, unknown>, sessionId?: string) => void;

export interface CdpBrowser {
  process: ChildProcess;
  /** A command to the browser, or to an attached target when `sessionId` is given. */
  send<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>, sessionId?: string): Promise<T>;
  on(event: string, handler: Handler): void;
  /** The first page's session. */
  page: string;
  /** Evaluates `expression` in the page (as a user gesture) and returns its value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Polls `expression` in the page every 200 ms until it is truthy. */
  waitFor(expression: string, timeoutMs: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

export async function launchCdpChromium(userDataDir: string, args: string[] = []): Promise<CdpBrowser> {
  const child = spawn(
    chromiumPath(),
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
      '--remote-debugging-pipe',
      `--user-data-dir=${userDataDir}`,
      ...args,
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
  );
  const input = child.stdio[3] as Writable;
  const output = child.stdio[4] as Readable;
  let nextId = 1;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  const handlers = new Map<string, Handler[]>();
  let buffered = '';
  output.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let end: number;
    while ((end = buffered.indexOf('\0')) >= 0) {
      const message = JSON.parse(buffered.slice(0, end)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
        method?: string;
        params?: Record<string, unknown>;
        sessionId?: string;
      };
      buffered = buffered.slice(end + 1);
      if (message.id !== undefined) {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(message.error.message));
        else waiter?.resolve(message.result);
      } else if (message.method) {
        for (const handler of handlers.get(message.method) ?? []) handler(message.params ?? {}, message.sessionId);
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const send = <T>(method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });

  const { targetInfos } = await send<{ targetInfos: { targetId: string; type: string }[] }>('Target.getTargets');
  const target = targetInfos.find((t) => t.type === 'page');
  if (!target) throw new Error('Chromium opened no page');
  const { sessionId: page } = await send<{ sessionId: string }>('Target.attachToTarget', {
    targetId: target.targetId,
    flatten: true,
  });
  // Scripts added for new documents run only with the Page domain on (it keeps no response bodies).
  await send('Page.enable', {}, page);

  const evaluate = async <T>(expression: string): Promise<T> => {
    const reply = await send<{ result: { value: T }; exceptionDetails?: { text: string } }>(
      'Runtime.evaluate',
      { expression, returnByValue: true, awaitPromise: true, userGesture: true },
      page,
    );
    if (reply.exceptionDetails) throw new Error(`${expression}: ${JSON.stringify(reply.exceptionDetails)}`);
    return reply.result.value;
  };

  return {
    process: child,
    send,
    on(event, handler) {
      handlers.set(event, [...(handlers.get(event) ?? []), handler]);
    },
    page,
    evaluate,
    async waitFor(expression, timeoutMs, what = expression) {
      const deadline = Date.now() + timeoutMs;
      while (!(await evaluate<boolean>(`!!(${expression})`).catch(() => false))) {
        if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async close() {
      await send('Browser.close').catch(() => {});
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}
