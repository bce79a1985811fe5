import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { relayConfigFromEnv } from './config.ts';
import { destinationFor, destinationForUrl, knownHost, mirrored, refusedAddresses } from './destination.ts';
import { RelayError } from './errors.ts';
import { parseHost } from './hosts.ts';

const refusedAs = (code: string) => (error: unknown) => error instanceof RelayError && error.code === code;
const policy = relayConfigFromEnv({
  RELAY_ALLOW: 'defaults, harbor.corp, 8.8.8.8, 10.0.0.5:5000, [::1]:5000, localhost:5000, [::ffff:7f00:1]',
  RELAY_ALLOW_PRIVATE: '10.1.2.3:5000, intranet.corp',
  RELAY_PLAIN_HTTP: 'intranet.corp',
  RELAY_DOCKERHUB_MIRROR: 'mirror.corp:5000',
});
const at = (host: string) => destinationFor(policy, parseHost(host));

describe('destinationFor', () => {
  it('allows listed hosts over https, and RELAY_PLAIN_HTTP or loopback ones over http', () => {
    assert.deepEqual(at('ghcr.io'), { host: parseHost('ghcr.io'), scheme: 'https:', allowPrivate: false });
    assert.equal(at('harbor.corp').scheme, 'https:');
    assert.equal(at('8.8.8.8').scheme, 'https:');
    assert.deepEqual(at('intranet.corp'), { host: parseHost('intranet.corp'), scheme: 'http:', allowPrivate: true });
    assert.equal(at('10.1.2.3:5000').scheme, 'https:');
  });

  it('refuses hosts off the allowlist, including a listed host on another port', () => {
    for (const host of ['nosuch.invalid', 'ghcr.io:8443', 'evil-ghcr.io', 'ghcr.io.evil.example', 'gcr.io:443'])
      assert.throws(() => at(host), refusedAs('host-not-allowed'), host);
  });

  it('refuses private, loopback, link-local and mapped addresses unless RELAY_ALLOW_PRIVATE lists them', () => {
    for (const host of ['10.0.0.5:5000', '[::1]:5000', 'localhost:5000', '[::ffff:7f00:1]'])
      assert.throws(() => at(host), refusedAs('private-address'), host);
  });

  it('sends registry-1.docker.io to the mirror, which is allowed because the operator named it', () => {
    const hub = mirrored(policy, parseHost('registry-1.docker.io'));
    assert.equal(hub.host, 'mirror.corp:5000');
    assert.equal(destinationFor(policy, hub).scheme, 'https:');
    assert.equal(mirrored(policy, parseHost('registry-1.docker.io:443')).host, 'registry-1.docker.io:443');
  });
});

describe('destinationForUrl (redirect targets and token realms)', () => {
  const url = (text: string) => destinationForUrl(policy, new URL(text));

  it('takes http(s) URLs to allowed hosts', () => {
    assert.equal(url('https://ghcr.io/token').host.host, 'ghcr.io');
    assert.equal(url('http://intranet.corp/x').scheme, 'http:');
  });

  it('refuses other schemes, user information, and plain http to https-only hosts', () => {
    assert.throws(() => url('file:///etc/passwd'), refusedAs('scheme-not-allowed'));
    assert.throws(() => url('ftp://ghcr.io/x'), refusedAs('scheme-not-allowed'));
    assert.throws(() => url('https://user:pw@ghcr.io/x'), refusedAs('bad-host'));
    assert.throws(() => url('https://user@ghcr.io/x'), refusedAs('bad-host'));
    assert.throws(() => url('http://ghcr.io/x'), refusedAs('scheme-not-allowed'));
  });

  it('sees odd IP spellings as the URL parser normalises them, and refuses the private ones', () => {
    for (const text of [
      'http://127.1/',
      'http://0x7f.0.0.1/',
      'http://2130706433/',
      'http://0177.0.0.1/',
      'http://[0:0:0:0:0:0:0:1]/',
      'http://[::ffff:10.0.0.5]:5000/',
      'http://169.254.169.254/',
      'http://[fe80::1]/',
      'http://[fd00::1]/',
      'http://0.0.0.0/',
    ])
      assert.throws(() => url(text), refusedAs('host-not-allowed'), text);
    // Listed, but private: the normalised form is what the allowlist and the address check see.
    assert.throws(() => url('https://[::ffff:127.0.0.1]/'), refusedAs('private-address'));
    assert.throws(() => url('https://[::ffff:7f00:1]/'), refusedAs('private-address'));
    assert.throws(() => url('https://0x7f.0.0.1:5000/'), refusedAs('host-not-allowed'));
    assert.throws(() => url('https://LOCALHOST:5000/'), refusedAs('private-address'));
  });
});

describe('refusedAddresses (what a name resolves to, at connect time)', () => {
  const of = (...addresses: string[]) => addresses.map((address) => ({ address }));

  it('refuses a name when any of its addresses is not public', () => {
    assert.equal(refusedAddresses('r.example', of('93.184.216.34'), false), undefined);
    for (const list of [['10.0.0.1'], ['93.184.216.34', '127.0.0.1'], ['::ffff:192.168.0.1'], ['fd00::1'], ['::1']])
      assert.equal(refusedAddresses('r.example', of(...list), false)?.code, 'private-address', list.join(' '));
    assert.match(refusedAddresses('r.example', of('10.0.0.1'), false)!.message, /^r\.example resolves to a private/);
  });

  it('lets private answers through for RELAY_ALLOW_PRIVATE hosts', () => {
    assert.equal(refusedAddresses('intranet.corp', of('10.0.0.1'), true), undefined);
  });
});

describe('knownHost (the names the Node server answers to, against DNS rebinding)', () => {
  it('answers to IP literals, localhost and the RELAY_PUBLIC_URL host only', () => {
    for (const host of ['127.0.0.1:8080', '[::1]:8080', 'localhost:8080', 'app.localhost', '10.0.0.5'])
      assert.equal(knownHost(host, undefined), true, host);
    for (const host of [undefined, 'evil.example', 'evil.example:8080', '127.0.0.1.evil.example', ''])
      assert.equal(knownHost(host, undefined), false, String(host));
    assert.equal(knownHost('relay.example.com', 'https://relay.example.com'), true);
    assert.equal(knownHost('RELAY.example.com:443', 'https://relay.example.com'), true);
    assert.equal(knownHost('other.example.com', 'https://relay.example.com'), false);
  });
});
