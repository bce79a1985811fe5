import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseReference } from '../../core/image/reference.ts';
import { relayRefusal } from '../../core/registry/transport/relay.ts';
import { en } from '../i18n/en.ts';
import { zh } from '../i18n/zh.ts';
import { adviceFor } from './advice.ts';
import { nearestRegistries } from './registries.ts';

const relay = 'http://127.0.0.1:8080/relay';
const notAllowed = (host: string) =>
  relayRefusal(
    403,
    '',
    new Headers({
      'skiff-relay-error': 'host-not-allowed',
      'skiff-relay-message': encodeURIComponent(`${host} is not on this relay's allowlist (RELAY_ALLOW).`),
    }),
  );

describe('nearestRegistries', () => {
  it('puts the registry a typo was meant for first', () => {
    assert.equal(nearestRegistries('ghrc.io')[0], 'ghcr.io');
    assert.equal(nearestRegistries('qauy.io')[0], 'quay.io');
    assert.equal(nearestRegistries('dokcer.io:443')[0], 'docker.io');
    assert.equal(nearestRegistries('registry.k8s.oi')[0], 'registry.k8s.io');
    assert.equal(nearestRegistries('mcr.microsft.com')[0], 'mcr.microsoft.com');
    assert.equal(nearestRegistries('nosuch.invalid').length, 4);
  });

  it('offers none for an IP address', () => {
    assert.deepEqual(nearestRegistries('127.0.0.1:5000'), []);
    assert.deepEqual(nearestRegistries('[::1]:5000'), []);
  });
});

describe('a host the relay does not allow', () => {
  it('says to check the name first, with the registries people mean, then the allowlist', () => {
    const reference = parseReference('ghrc.io/org/app:1');
    const lines = adviceFor(notAllowed('ghrc.io'), en, { relay, reference }).lines;
    assert.match(lines[0]!, /^First check the registry name ghrc\.io for a typo\. .*nearest first: ghcr\.io, /);
    assert.match(
      lines[1]!,
      /refused to contact ghrc\.io: it is not on the relay’s allowlist.*add ghrc\.io to RELAY_ALLOW/,
    );
    const chinese = adviceFor(notAllowed('ghrc.io'), zh, { relay, reference }).lines;
    assert.match(
      chinese[0]!,
      /^请先检查镜像仓库名称 ghrc\.io 是否拼写有误。常用的镜像仓库（越相近越靠前）：ghcr\.io、/,
    );
    assert.match(chinese[1]!, /RELAY_ALLOW/);
  });

  it('for an address, asks to check it without offering public registries', () => {
    const lines = adviceFor(notAllowed('10.0.0.5:5000'), en, { relay }).lines;
    assert.equal(lines[0], 'First check the registry name 10.0.0.5:5000 for a typo.');
  });
});

describe('a public registry the relay cannot find', () => {
  it('says the relay’s own network cannot look names up, and offers the Docker Hub mirror', () => {
    const error = relayRefusal(
      502,
      '',
      new Headers({
        'skiff-relay-error': 'upstream-unreachable',
        'skiff-relay-message': encodeURIComponent(
          'Could not reach registry-1.docker.io: getaddrinfo ENOTFOUND registry-1.docker.io.',
        ),
      }),
    );
    const lines = adviceFor(error, en, { relay }).lines;
    assert.match(lines[0]!, /could not find registry-1\.docker\.io: the name does not resolve \(DNS\) from the relay/);
    assert.match(lines[0]!, /cannot reach the internet or its DNS/);
    assert.match(lines[1]!, /Settings → Docker Hub mirror/);
    const own = relayRefusal(
      502,
      '',
      new Headers({
        'skiff-relay-error': 'upstream-unreachable',
        'skiff-relay-message': encodeURIComponent('Could not reach harbor.corp: getaddrinfo ENOTFOUND harbor.corp.'),
      }),
    );
    assert.match(adviceFor(own, en, { relay }).lines.join(' '), /could not find harbor\.corp.*Check the registry name/);
  });
});

describe('a registry the relay could not connect to', () => {
  const unreachable = (message: string) =>
    relayRefusal(
      502,
      '',
      new Headers({ 'skiff-relay-error': 'upstream-unreachable', 'skiff-relay-message': encodeURIComponent(message) }),
    );

  it('tells a refused connection, a timed-out one and a TLS failure apart, in both languages', () => {
    const said = (message: string, m = en) => adviceFor(unreachable(message), m, { relay }).lines.join(' ');
    assert.match(said('Could not reach h.corp:5000: connect ECONNREFUSED 10.0.0.5:5000.'), /refused the connection/);
    assert.match(
      said('Could not reach h.corp:5000: connect ETIMEDOUT 10.0.0.5:5000.'),
      /could not connect to h\.corp:5000: the connection attempt timed out/,
    );
    assert.match(said('Could not reach h.corp:5000: write EPROTO wrong version number.'), /did not answer in HTTPS/);
    assert.match(said('Could not reach h.corp:5000: connect ETIMEDOUT 10.0.0.5:5000.', zh), /连接尝试超时/);
  });
});
