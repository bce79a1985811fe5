import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { describe, it } from 'node:test';
import { parseWwwAuthenticate } from '../core/registry/transport/challenge.ts';
import { DEFAULT_ALLOW, relayConfigFromEnv } from './config.ts';
import { RelayError } from './errors.ts';
import { serializeChallenge } from './challenges.ts';
import { HostList, compileHostPattern, isPublicAddress, parseHost } from './hosts.ts';
import { type LookupAll, guardedLookup } from './node-fetch.ts';

describe('parseHost', () => {
  it('accepts names, IPv4 and IPv6 literals with ports', () => {
    assert.deepEqual(parseHost('Registry-1.Docker.io'), {
      hostname: 'registry-1.docker.io',
      host: 'registry-1.docker.io',
    });
    assert.deepEqual(parseHost('127.0.0.1:5000'), {
      hostname: '127.0.0.1',
      port: 5000,
      host: '127.0.0.1:5000',
      ip: '127.0.0.1',
    });
    assert.deepEqual(parseHost('[::1]:443'), { hostname: '[::1]', port: 443, host: '[::1]:443', ip: '::1' });
  });

  it('refuses what a URL parser would rewrite or misread', () => {
    for (const [text, code] of [
      ['', 'bad-host'],
      ['user@ghcr.io', 'bad-host'],
      ['ghcr.io\\x', 'bad-host'],
      ['ghcr.io%2f', 'bad-host'],
      ['127.1', 'bad-host'],
      ['0x7f.0.0.1', 'bad-host'],
      ['2130706433', 'bad-host'],
      ['0177.0.0.1', 'bad-host'],
      ['[0:0:0:0:0:0:0:1]', 'bad-host'],
      ['ghcr.io.', 'bad-host'],
      ['a..b', 'bad-host'],
      ['-a.com', 'bad-host'],
      ['ghcr.io:0', 'bad-port'],
      ['ghcr.io:65536', 'bad-port'],
      ['ghcr.io:', 'bad-port'],
      ['ghcr.io:1:2', 'bad-host'],
    ] as const) {
      assert.throws(
        () => parseHost(text),
        (error: unknown) => error instanceof RelayError && error.code === code && error.status === 400,
        text,
      );
    }
  });
});

describe('isPublicAddress', () => {
  it('tells public addresses from private, loopback, link-local, mapped and special ones', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700::1111', '2a00:1450:4001::200e'])
      assert.equal(isPublicAddress(address), true, address);
    for (const address of [
      '10.0.0.1',
      '172.16.5.4',
      '172.31.255.255',
      '192.168.1.1',
      '100.64.0.1',
      '127.0.0.1',
      '127.255.0.9',
      '169.254.169.254',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::',
      '::1',
      '[::1]',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      'fe80::1%eth0',
      '::ffff:10.0.0.1',
      '::ffff:8.8.8.8',
      '::ffff:7f00:1',
      '64:ff9b::a00:1',
      '2002:a00:1::1',
      '2001:db8::1',
      '2001::1',
      'ff02::1',
      'not-an-ip',
    ]) {
      assert.equal(isPublicAddress(address), false, address);
    }
  });
});

describe('host patterns', () => {
  const matches = (pattern: string, host: string) => compileHostPattern(pattern)(parseHost(host));

  it('every default pattern compiles', () => {
    assert.doesNotThrow(() => new HostList(DEFAULT_ALLOW));
  });

  it('matches exact hosts with their port, suffixes, and wildcards within one label', () => {
    assert.equal(matches('ghcr.io', 'ghcr.io'), true);
    assert.equal(matches('ghcr.io', 'ghcr.io:8443'), false);
    assert.equal(matches('127.0.0.1:5000', '127.0.0.1:5000'), true);
    assert.equal(matches('127.0.0.1:5000', '127.0.0.1:5001'), false);
    assert.equal(matches('*.gcr.io', 'eu.gcr.io'), true);
    assert.equal(matches('*.gcr.io', 'a.b.gcr.io'), true);
    assert.equal(matches('*.gcr.io', 'gcr.io'), false);
    assert.equal(matches('*.gcr.io', 'evilgcr.io'), false);
    assert.equal(matches('cdn*.quay.io', 'cdn.quay.io'), true);
    assert.equal(matches('cdn*.quay.io', 'cdn02.quay.io'), true);
    assert.equal(matches('cdn*.quay.io', 'x.cdn02.quay.io'), false);
    const k8s = 'prod-registry-k8s-io-*.s3.dualstack.*.amazonaws.com';
    assert.equal(matches(k8s, 'prod-registry-k8s-io-us-east-2.s3.dualstack.us-east-2.amazonaws.com'), true);
    assert.equal(matches(k8s, 'attacker.s3.dualstack.us-east-2.amazonaws.com'), false);
    assert.equal(matches(k8s, 'prod-registry-k8s-io-x.s3.dualstack.a.b.amazonaws.com'), false);
    assert.equal(matches('*.example.com:5000', 'r.example.com:5000'), true);
    assert.equal(matches('*.example.com:5000', 'r.example.com'), false);
  });

  it('refuses patterns that would cover a whole top-level domain or more', () => {
    for (const pattern of ['*', '*.com', '*.*', 'example.*', '*.*.com', 'a**.example.com', 'exa mple.com']) {
      assert.throws(() => compileHostPattern(pattern), /Invalid host pattern/, pattern);
    }
  });
});

describe('relayConfigFromEnv', () => {
  it('uses the public defaults, and "defaults" adds to them', () => {
    const plain = relayConfigFromEnv({});
    assert.equal(plain.allow.has(parseHost('registry-1.docker.io')), true);
    assert.equal(plain.allow.has(parseHost('harbor.corp')), false);
    assert.equal(plain.origins.length, 0);
    assert.equal(plain.ratePerMinute, 600);
    const extended = relayConfigFromEnv({ RELAY_ALLOW: 'defaults, harbor.corp' });
    assert.equal(extended.allow.has(parseHost('harbor.corp')), true);
    assert.equal(extended.allow.has(parseHost('ghcr.io')), true);
    const only = relayConfigFromEnv({ RELAY_ALLOW: 'harbor.corp', RELAY_ALLOW_PRIVATE: '10.1.2.3:5000' });
    assert.equal(only.allow.has(parseHost('ghcr.io')), false);
    assert.equal(only.allow.has(parseHost('10.1.2.3:5000')), true, 'private entries are allowed too');
  });

  it('stops on invalid settings with the variable named', () => {
    assert.throws(() => relayConfigFromEnv({ RELAY_ALLOW: '*.com' }), /RELAY_ALLOW/);
    assert.throws(() => relayConfigFromEnv({ RELAY_ORIGINS: 'https://app.example/path' }), /RELAY_ORIGINS/);
    assert.throws(() => relayConfigFromEnv({ RELAY_RATE_LIMIT: 'lots' }), /RELAY_RATE_LIMIT/);
    assert.throws(() => relayConfigFromEnv({ RELAY_DOCKERHUB_MIRROR: 'user@mirror' }), /RELAY_DOCKERHUB_MIRROR/);
    assert.deepEqual(relayConfigFromEnv({ RELAY_ORIGINS: 'https://app.example/, http://localhost:5173' }).origins, [
      'https://app.example',
      'http://localhost:5173',
    ]);
    assert.equal(relayConfigFromEnv({ RELAY_ORIGINS: '*' }).origins, '*');
  });
});

describe('guardedLookup', () => {
  const stub =
    (addresses: string[]): LookupAll =>
    (_host, _options, callback) =>
      callback(
        null,
        addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })),
      );
  const run = (allowPrivate: boolean, addresses: string[]) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((resolve) =>
      guardedLookup(allowPrivate, stub(addresses))('registry.example', { all: false }, (error, address) =>
        resolve({ error, address }),
      ),
    );

  it('refuses a public name that resolves to a private address, even among public ones', async () => {
    assert.equal((await run(false, ['10.0.0.1'])).error?.code, 'ERR_RELAY_PRIVATE_ADDRESS');
    assert.equal((await run(false, ['93.184.216.34', '127.0.0.1'])).error?.code, 'ERR_RELAY_PRIVATE_ADDRESS');
    assert.equal((await run(false, ['::ffff:192.168.0.1'])).error?.code, 'ERR_RELAY_PRIVATE_ADDRESS');
  });

  it('passes public answers, and private ones when allowed', async () => {
    assert.deepEqual(await run(false, ['93.184.216.34']), { error: null, address: '93.184.216.34' });
    assert.deepEqual(await run(true, ['10.0.0.1']), { error: null, address: '10.0.0.1' });
  });
});

describe('serializeChallenge', () => {
  it('quotes and escapes every parameter so the header parses back to the same values', () => {
    const header =
      'Bearer realm="https://auth.example/token",service="a \\"quoted\\", service",scope="repository:x/y:pull"';
    const [challenge] = parseWwwAuthenticate(header);
    challenge!.params.realm = 'http://relay.example/relay/auth.example/token?x="1"\\';
    const rebuilt = serializeChallenge(challenge!);
    assert.deepEqual(parseWwwAuthenticate(rebuilt), [challenge]);
    assert.equal(
      serializeChallenge(parseWwwAuthenticate('Basic realm="Registry Realm"')[0]!),
      'Basic realm="Registry Realm"',
    );
  });
});
