/**
 * A TCP proxy on 127.0.0.1 that makes a loopback registry look far away: every chunk in each direction is
 * held for half the round-trip latency (so each request–response exchange costs one round trip, and a new
 * connection one more for its handshake), and bytes leave at no more than a per-connection rate and a total
 * rate shared by all connections (separately for each direction, as on a real link). It works below HTTP,
 * so keep-alive, Range requests, uploads and CORS pass unchanged, and it holds at most `windowBytes` per
 * connection and direction: beyond that it stops reading from the sender, which TCP then slows down in turn.
 */
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Contender } from './measure.ts';

export interface ThrottleOptions {
  /** Round-trip time added to every request, in ms (half on the way there, half back). */
  latencyMs: number;
  /** Bytes per second one TCP connection may carry in one direction. */
  connectionRate: number;
  /** Bytes per second all connections together may carry in one direction. */
  totalRate: number;
  /** Bytes held per connection and direction before the sender is paused. Default 1 MiB. */
  windowBytes?: number;
}

export interface ThrottleProxy {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** `127.0.0.1:PORT`, as written in an image reference. */
  host: string;
  /** Bytes carried so far, registry → client and client → registry. */
  carried: { down: number; up: number };
  /** Connections accepted so far, and the most open at once. */
  connections: { total: number; open: number; peak: number };
  stop(): Promise<void>;
}

/**
 * Paces bytes to a rate by reserving time slots: a piece of n bytes takes the next n / rate seconds of the
 * schedule. A short slack lets a pacer that woke up late catch up without ever exceeding rate × (t + slack).
 */
class Pacer {
  private next = 0;
  constructor(
    private readonly rate: number,
    private readonly slackMs = 10,
  ) {}
  /** Reserves time for `bytes`; returns the moment (performance.now() ms) they may be sent. */
  reserve(bytes: number): number {
    const now = performance.now();
    const start = Math.max(this.next, now - this.slackMs);
    this.next = start + (bytes / this.rate) * 1000;
    return start;
  }
}

const sleepUntil = (at: number) =>
  new Promise<void>((resolve) => {
    const wait = at - performance.now();
    if (wait <= 0) resolve();
    else setTimeout(resolve, wait);
  });

/** Resolves when `socket` wants more, or is gone. */
const drained = (socket: Socket) =>
  new Promise<void>((resolve) => {
    const done = () => {
      socket.off('drain', done).off('close', done);
      resolve();
    };
    socket.on('drain', done).on('close', done);
  });

/** Largest piece sent at once: small enough that pacing stays smooth, large enough to be cheap. */
const PIECE = 32 * 1024;

/**
 * One direction of one connection: reads `from`, writes to `to` after the one-way delay, paced by this
 * connection's pacer and the shared one.
 */
function shape(
  from: Socket,
  to: Socket,
  delayMs: number,
  own: Pacer,
  shared: Pacer,
  windowBytes: number,
  count: (n: number) => void,
) {
  const queue: { data: Buffer; at: number }[] = [];
  let held = 0;
  let ended = false;
  let running = false;

  const pump = async () => {
    if (running) return;
    running = true;
    try {
      while (queue.length) {
        const head = queue[0]!;
        await sleepUntil(head.at);
        while (head.data.length) {
          const piece = head.data.subarray(0, PIECE);
          head.data = head.data.subarray(piece.length);
          await sleepUntil(Math.max(own.reserve(piece.length), shared.reserve(piece.length)));
          if (to.destroyed) return;
          held -= piece.length;
          count(piece.length);
          if (!to.write(piece)) await drained(to);
          if (held < windowBytes / 2 && from.isPaused()) from.resume();
        }
        queue.shift();
      }
      if (ended) to.end();
    } catch {
      to.destroy();
    } finally {
      running = false;
    }
  };

  from.on('data', (data: Buffer) => {
    queue.push({ data, at: performance.now() + delayMs });
    held += data.length;
    if (held >= windowBytes) from.pause();
    void pump();
  });
  from.on('end', () => {
    ended = true;
    void pump();
  });
}

export async function startThrottleProxy(upstream: string, options: ThrottleOptions): Promise<ThrottleProxy> {
  const target = new URL(upstream);
  const windowBytes = options.windowBytes ?? 1 << 20;
  const oneWay = options.latencyMs / 2;
  const sharedDown = new Pacer(options.totalRate);
  const sharedUp = new Pacer(options.totalRate);
  const carried = { down: 0, up: 0 };
  const connections = { total: 0, open: 0, peak: 0 };
  const sockets = new Set<Socket>();

  // Half-open: a side that has finished sending may still be owed delayed bytes.
  const server = createServer({ allowHalfOpen: true }, (client) => {
    client.pause();
    sockets.add(client);
    connections.total++;
    connections.peak = Math.max(connections.peak, ++connections.open);
    client.once('close', () => connections.open--);
    // The handshake of a far connection: one round trip before anything flows.
    setTimeout(() => {
      if (client.destroyed) return;
      const registry = connect({ port: Number(target.port), host: target.hostname, allowHalfOpen: true });
      sockets.add(registry);
      // A reset on either side ends both; an orderly end travels through the shaping queues.
      const fail = () => {
        client.destroy();
        registry.destroy();
      };
      client.on('error', fail).on('close', () => sockets.delete(client));
      registry.on('error', fail).on('close', () => sockets.delete(registry));
      shape(
        client,
        registry,
        oneWay,
        new Pacer(options.connectionRate),
        sharedUp,
        windowBytes,
        (n) => (carried.up += n),
      );
      shape(
        registry,
        client,
        oneWay,
        new Pacer(options.connectionRate),
        sharedDown,
        windowBytes,
        (n) => (carried.down += n),
      );
      client.resume();
    }, options.latencyMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    carried,
    connections,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `c` with each run's log line saying what crossed the link, so a contender that skipped bytes (a cache) shows. */
export function throughProxy(proxy: ThrottleProxy, c: Contender): Contender {
  return {
    ...c,
    run: async (out) => {
      const from = proxy.carried.down;
      const opened = proxy.connections.total;
      proxy.connections.peak = proxy.connections.open;
      const m = await c.run(out);
      const carried = `${((proxy.carried.down - from) / 1e6).toFixed(0)} MB through the proxy over ${proxy.connections.total - opened} connections, ${proxy.connections.peak} at most at once`;
      return { ...m, extra: m.extra ? `${m.extra}, ${carried}` : carried };
    },
  };
}
