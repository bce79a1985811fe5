/**
 * What only the Node server (npm start) or workerd's default egress show: DNS answers checked at connect
 * time, the names the server answers to, connection caps, and the app served beside the relay.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseWwwAuthenticate } from '../../src/core/registry/transport/challenge.ts';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { join, resolve } from 'node:path';
import { runCommand, scratchDir } from '../support/process.ts';
import { startNodeRelay, startRelay } from '../support/relay.ts';
import type { Registry } from '../support/registry.ts';
import type { TokenServer } from '../support/token-server.ts';
import { ACCEPT, raw, refused, bytes, type RelayLab, startRelayLab } from '../support/relay-lab.ts';

const root = resolve(import.meta.dirname, '../..');

describe('CORS relay on Node, and npm start', () => {
  let lab: RelayLab;
  let registry: Registry;
  let tokens: TokenServer;
  let secure: Registry;
  let loopbackName: string | undefined;
  let env: Record<string, string>;

  before(async () => {
    lab = await startRelayLab();
    ({ registry, tokens, secure, loopbackName, env } = lab);
  });
  after(() => lab?.stop());

  it('on Node, refuses a name that resolves to a private address (checked in DNS, at connect time)', async (t) => {
    if (!loopbackName) return t.skip('this machine has no non-localhost name that resolves to loopback');
    const relay = await startNodeRelay({ env });
    try {
      await refused(
        await raw(relay.url, `/relay/${loopbackName}:${registry.host.split(':')[1]}/v2/`),
        403,
        'private-address',
      );
    } finally {
      await relay.stop();
    }
  });

  it('on Node, answers only to IP literals, localhost and RELAY_PUBLIC_URL (no DNS rebinding)', async () => {
    const relay = await startNodeRelay({ env: { ...env, RELAY_PUBLIC_URL: 'https://skiff.example' } });
    try {
      const path = `/relay/${registry.host}/v2/`;
      await refused(
        await raw(relay.url, path, { headers: { host: 'rebound.attacker.example:8080' } }),
        421,
        'unknown-host',
      );
      assert.equal((await raw(relay.url, path, { headers: { host: 'skiff.example' } })).status, 200);
      assert.equal((await raw(relay.url, path, { headers: { host: 'localhost:8080' } })).status, 200);
      // Behind a TLS proxy the realm must name the public URL, not the internal address.
      const challenged = await raw(relay.url, `/relay/${secure.host}/v2/`);
      assert.equal(challenged.status, 401);
      assert.equal(
        parseWwwAuthenticate(String(challenged.headers['www-authenticate']))[0]?.params.realm,
        `https://skiff.example/relay/${new URL(tokens.url).host}/token`,
      );
    } finally {
      await relay.stop();
    }
  });

  it('on workerd with the default (public egress) config, the platform refuses what resolves to a private address', async (t) => {
    if (!loopbackName) return t.skip('this machine has no non-localhost name that resolves to loopback');
    const relay = await startRelay('workerd', { env, egress: 'public' });
    try {
      const response = await raw(relay.url, `/relay/${loopbackName}:${registry.host.split(':')[1]}/v2/`);
      await refused(response, 502, 'upstream-unreachable');
      // Even a host the relay allows as private stays out of reach: egress itself is public-only.
      await refused(await raw(relay.url, `/relay/${registry.host}/v2/`), 502, 'upstream-unreachable');
    } finally {
      await relay.stop();
    }
  });

  it('on Node, caps connections per peer and closes those that do not send headers in time', async () => {
    const relay = await startNodeRelay({
      env: { ...env, RELAY_MAX_CONNECTIONS_PER_CLIENT: '20', RELAY_HEADER_TIMEOUT: '2' },
    });
    const { port } = new URL(relay.url);
    // The flood comes from another loopback address, so it is another peer than the client below.
    const sockets: Socket[] = [];
    let closed = 0;
    try {
      for (let i = 0; i < 200; i++) {
        const socket = connect({ port: Number(port), host: '127.0.0.1', localAddress: '127.0.0.2' });
        socket.on('error', () => {});
        socket.resume(); // read the server's answer (a 408) and its close
        socket.once('close', () => closed++);
        socket.write(`GET /relay/${registry.host}/v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
        sockets.push(socket);
      }
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(closed >= 180, `connections past the per-peer cap are closed at once: ${closed} of 200`);
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await raw(relay.url, `/relay/${registry.host}/v2/`)).status);
      assert.deepEqual(statuses, Array(10).fill(200), 'another client still gets answers');
      await new Promise((r) => setTimeout(r, 3_500));
      assert.equal(closed, 200, 'half-open connections are closed after the header time-out');
    } finally {
      for (const socket of sockets) socket.destroy();
      await relay.stop();
    }
  });

  describe('npm start server', () => {
    let dist: string;
    let withConfig: { path: string; remove(): void };

    before(async () => {
      if (!existsSync(join(root, 'dist/index.html')))
        await runCommand('npx', ['vite', 'build'], { cwd: root, timeoutMs: 300_000 });
      // A copy, so another build replacing dist/ meanwhile cannot race the assertions.
      withConfig = scratchDir('relay-dist');
      cpSync(join(root, 'dist'), withConfig.path, { recursive: true });
      dist = withConfig.path;
    });
    after(() => withConfig?.remove());

    it('serves the built app at / with content types, and config.json (deployed or generated)', async () => {
      const server = await startNodeRelay({ env, distDir: dist });
      try {
        const index = await fetch(`${server.url}/`);
        assert.equal(index.status, 200);
        assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
        assert.equal(await index.text(), readFileSync(join(dist, 'index.html'), 'utf8'));
        const script = readdirSync(join(dist, 'assets')).find((f) => f.endsWith('.js'));
        if (script) {
          const asset = await fetch(`${server.url}/assets/${script}`);
          assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/);
          assert.deepEqual(await bytes(asset), readFileSync(join(dist, 'assets', script)));
        }
        const config = await fetch(`${server.url}/config.json`);
        assert.equal(config.status, 200);
        assert.match(config.headers.get('content-type') ?? '', /^application\/json/);
        if (existsSync(join(dist, 'config.json')))
          assert.equal(await config.text(), readFileSync(join(dist, 'config.json'), 'utf8'));
        else assert.deepEqual(await config.json(), { relay: '/relay' });
        const head = await raw(server.url, '/', { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(head.body.byteLength, 0);

        for (const path of ['/../package.json', '/%2e%2e/package.json', '/assets/../../package.json', '/nope.js']) {
          assert.equal((await raw(server.url, path)).status, 404, path);
        }
        assert.equal((await raw(server.url, '/', { method: 'POST', body: 'x' })).status, 405);
        // The relay is mounted on the same origin.
        const relayed = await fetch(`${server.url}/relay/${registry.host}/v2/relay/app/manifests/v1`, {
          headers: { accept: ACCEPT },
        });
        assert.equal(relayed.status, 200);
        await relayed.body?.cancel();
      } finally {
        await server.stop();
      }

      writeFileSync(join(dist, 'config.json'), '{"relay":"https://relay.example/relay"}\n');
      const deployed = await startNodeRelay({ env, distDir: dist });
      try {
        assert.deepEqual(await (await fetch(`${deployed.url}/config.json`)).json(), {
          relay: 'https://relay.example/relay',
        });
      } finally {
        await deployed.stop();
      }
    });

    it('takes its settings as flags too, and stops with a clear message on a bad one', async () => {
      const server = await startNodeRelay({ distDir: dist, args: ['--allow', 'harbor.corp', '--origins=*'] });
      try {
        const refusedHub = await raw(server.url, '/relay/registry-1.docker.io/v2/');
        await refused(refusedHub, 403, 'host-not-allowed');
        assert.equal(refusedHub.headers['access-control-allow-origin'], '*');
      } finally {
        await server.stop();
      }
      await assert.rejects(
        startNodeRelay({ distDir: dist, args: ['--allow', '*.com'] }),
        /RELAY_ALLOW: Invalid host pattern/,
      );
    });
  });
});
