/** Names and hosts from a reference: familiarName, registryApiHost, isLoopbackHost. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarName, isLoopbackHost, parseReference, registryApiHost } from './reference.ts';

const HEX64 = '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a';

// Vectors ported from distribution/reference (normalize_test.go, reference_test.go, regexp_test.go),
// rewritten to what ParseNormalizedNamed + TagNameOnly yield, i.e. what `docker pull` fetches.
test('familiarName matches Docker FamiliarName (TestParseRepositoryInfo)', () => {
  const cases: [string[], string, string, string][] = [
    // [spellings], familiar, registry, repository
    [['fooo/bar', 'docker.io/fooo/bar', 'index.docker.io/fooo/bar'], 'fooo/bar', 'docker.io', 'fooo/bar'],
    [['ubuntu', 'docker.io/library/ubuntu', 'library/ubuntu'], 'ubuntu', 'docker.io', 'library/ubuntu'],
    [['nonlibrary/ubuntu', 'docker.io/nonlibrary/ubuntu'], 'nonlibrary/ubuntu', 'docker.io', 'nonlibrary/ubuntu'],
    [['other/library', 'docker.io/other/library'], 'other/library', 'docker.io', 'other/library'],
    [['127.0.0.1:8000/private/moonbase'], '127.0.0.1:8000/private/moonbase', '127.0.0.1:8000', 'private/moonbase'],
    [['127.0.0.1:8000/privatebase'], '127.0.0.1:8000/privatebase', '127.0.0.1:8000', 'privatebase'],
    [['example.com/private/moonbase'], 'example.com/private/moonbase', 'example.com', 'private/moonbase'],
    [['example.com/privatebase'], 'example.com/privatebase', 'example.com', 'privatebase'],
    [
      ['example.com:8000/private/moonbase'],
      'example.com:8000/private/moonbase',
      'example.com:8000',
      'private/moonbase',
    ],
    [['example.com:8000/privatebasee'], 'example.com:8000/privatebasee', 'example.com:8000', 'privatebasee'],
    [
      ['ubuntu-12.04-base', 'docker.io/library/ubuntu-12.04-base', 'index.docker.io/library/ubuntu-12.04-base'],
      'ubuntu-12.04-base',
      'docker.io',
      'library/ubuntu-12.04-base',
    ],
    [['foo', 'docker.io/library/foo', 'docker.io/foo'], 'foo', 'docker.io', 'library/foo'],
    [['library/foo/bar', 'docker.io/library/foo/bar'], 'library/foo/bar', 'docker.io', 'library/foo/bar'],
    [['store/foo/bar', 'docker.io/store/foo/bar'], 'store/foo/bar', 'docker.io', 'store/foo/bar'],
    [['Foo/bar'], 'Foo/bar', 'Foo', 'bar'],
    [['FOO/bar'], 'FOO/bar', 'FOO', 'bar'],
    [['ghcr.io/x/y:1'], 'ghcr.io/x/y', 'ghcr.io', 'x/y'],
    [['user/app'], 'user/app', 'docker.io', 'user/app'],
    // Kept qualified, unlike Docker, because "foo.com/bar" or "localhost/x" would read as another registry
    [['docker.io/foo.com/bar'], 'docker.io/foo.com/bar', 'docker.io', 'foo.com/bar'],
    [['docker.io/localhost/x'], 'docker.io/localhost/x', 'docker.io', 'localhost/x'],
    [[`docker.io/${HEX64}`], `docker.io/library/${HEX64}`, 'docker.io', `library/${HEX64}`],
  ];
  for (const [spellings, familiar, registry, repository] of cases) {
    for (const spelling of spellings) {
      const parsed = parseReference(spelling);
      assert.equal(parsed.registry, registry, spelling);
      assert.equal(parsed.repository, repository, spelling);
      assert.equal(familiarName(parsed), familiar, spelling);
      const again = parseReference(familiarName(parsed));
      assert.equal(again.registry, registry, `familiar name of ${spelling} re-parses to the same registry`);
      assert.equal(again.repository, repository, `familiar name of ${spelling} re-parses to the same repository`);
    }
  }
});

test('registryApiHost points Docker Hub at its API host only', () => {
  assert.equal(registryApiHost('docker.io'), 'registry-1.docker.io');
  assert.equal(registryApiHost('ghcr.io'), 'ghcr.io');
  assert.equal(registryApiHost('localhost:5000'), 'localhost:5000');
  assert.equal(registryApiHost('[::1]:5000'), '[::1]:5000');
  assert.equal(registryApiHost(parseReference('nginx').registry), 'registry-1.docker.io');
});

test('isLoopbackHost recognises localhost, 127.0.0.0/8 and [::1], with or without a port', () => {
  for (const host of [
    'localhost',
    'localhost:5000',
    'LOCALHOST:5000',
    '127.0.0.1',
    '127.0.0.1:5000',
    '127.255.255.254:80',
    '127.1.2.3',
    '[::1]',
    '[::1]:5000',
    '[0:0:0:0:0:0:0:1]:5000',
    '[0000::0001]',
  ]) {
    assert.equal(isLoopbackHost(host), true, host);
  }
  for (const host of [
    'docker.io',
    'ghcr.io',
    'localhost.example.com',
    'mylocalhost:5000',
    '128.0.0.1',
    '127.0.0.256',
    '127.0.0',
    '10.0.0.1:5000',
    '[::2]',
    '[::]',
    '[fc00::1]:5000',
    '[::1]x',
    'localhost:http',
    '',
    '::1',
  ]) {
    assert.equal(isLoopbackHost(host), false, host);
  }
});
