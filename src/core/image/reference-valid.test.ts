/** parseReference on the valid vectors ported from distribution/reference, and formatReference round trips. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReference, parseReference, type ImageReference } from './reference.ts';

const SHA256_F = `sha256:${'f'.repeat(64)}`;
const SHA256_BE = 'sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912';
const SHA256_DBCC = 'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';
const SHA256_86E0 = 'sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa';
const SHA256_E669 = 'sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582';
const SHA512_F = `sha512:${'f'.repeat(128)}`;
const HEX64 = '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a';

/** [input, registry, repository, tag, digest]: tag/digest undefined means absent. */
type Valid = [string, string, string, string | undefined, string | undefined];

function ref(registry: string, repository: string, tag?: string, digest?: string): ImageReference {
  const out: ImageReference = { registry, repository };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

// Vectors ported from distribution/reference (normalize_test.go, reference_test.go, regexp_test.go),
// rewritten to what ParseNormalizedNamed + TagNameOnly yield, i.e. what `docker pull` fetches.
const VALID: Valid[] = [
  // TestValidateReferenceName
  ['docker/docker', 'docker.io', 'docker/docker', 'latest', undefined],
  ['library/debian', 'docker.io', 'library/debian', 'latest', undefined],
  ['debian', 'docker.io', 'library/debian', 'latest', undefined],
  ['docker.io/docker/docker', 'docker.io', 'docker/docker', 'latest', undefined],
  ['docker.io/library/debian', 'docker.io', 'library/debian', 'latest', undefined],
  ['docker.io/debian', 'docker.io', 'library/debian', 'latest', undefined],
  ['index.docker.io/docker/docker', 'docker.io', 'docker/docker', 'latest', undefined],
  ['index.docker.io/library/debian', 'docker.io', 'library/debian', 'latest', undefined],
  ['index.docker.io/debian', 'docker.io', 'library/debian', 'latest', undefined],
  ['127.0.0.1:5000/docker/docker', '127.0.0.1:5000', 'docker/docker', 'latest', undefined],
  ['127.0.0.1:5000/library/debian', '127.0.0.1:5000', 'library/debian', 'latest', undefined],
  ['127.0.0.1:5000/debian', '127.0.0.1:5000', 'debian', 'latest', undefined],
  ['192.168.0.1', 'docker.io', 'library/192.168.0.1', 'latest', undefined],
  ['192.168.0.1:80', 'docker.io', 'library/192.168.0.1', '80', undefined],
  ['192.168.0.1:8/debian', '192.168.0.1:8', 'debian', 'latest', undefined],
  ['192.168.0.2:25000/debian', '192.168.0.2:25000', 'debian', 'latest', undefined],
  [
    'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    'docker.io',
    'library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    'latest',
    undefined,
  ],
  ['[fc00::1]:5000/docker', '[fc00::1]:5000', 'docker', 'latest', undefined],
  ['[fc00::1]:5000/docker/docker', '[fc00::1]:5000', 'docker/docker', 'latest', undefined],
  ['[fc00:1:2:3:4:5:6:7]:5000/library/debian', '[fc00:1:2:3:4:5:6:7]:5000', 'library/debian', 'latest', undefined],
  [`docker.io/${HEX64}`, 'docker.io', `library/${HEX64}`, 'latest', undefined],
  ['Docker/docker', 'Docker', 'docker', 'latest', undefined],
  ['DOCKER/docker', 'DOCKER', 'docker', 'latest', undefined],
  // TestValidateRemoteName
  ['docker-rules/docker', 'docker.io', 'docker-rules/docker', 'latest', undefined],
  ['docker---rules/docker', 'docker.io', 'docker---rules/docker', 'latest', undefined],
  ['doc/docker', 'docker.io', 'doc/docker', 'latest', undefined],
  ['d/docker', 'docker.io', 'd/docker', 'latest', undefined],
  ['jess/t', 'docker.io', 'jess/t', 'latest', undefined],
  ['dock__er/docker', 'docker.io', 'dock__er/docker', 'latest', undefined],
  // TestParseReferenceWithTagAndDigest: both kept
  [`busybox:latest@${SHA256_86E0}`, 'docker.io', 'library/busybox', 'latest', SHA256_86E0],
  // TestParseAnyReference (named cases)
  ['redis', 'docker.io', 'library/redis', 'latest', undefined],
  ['redis:latest', 'docker.io', 'library/redis', 'latest', undefined],
  ['docker.io/library/redis:latest', 'docker.io', 'library/redis', 'latest', undefined],
  [`redis@${SHA256_DBCC}`, 'docker.io', 'library/redis', undefined, SHA256_DBCC],
  [`docker.io/library/redis@${SHA256_DBCC}`, 'docker.io', 'library/redis', undefined, SHA256_DBCC],
  ['dmcgowan/myapp', 'docker.io', 'dmcgowan/myapp', 'latest', undefined],
  ['dmcgowan/myapp:latest', 'docker.io', 'dmcgowan/myapp', 'latest', undefined],
  ['docker.io/mcgowan/myapp:latest', 'docker.io', 'mcgowan/myapp', 'latest', undefined],
  [`dmcgowan/myapp@${SHA256_DBCC}`, 'docker.io', 'dmcgowan/myapp', undefined, SHA256_DBCC],
  [`docker.io/dmcgowan/myapp@${SHA256_DBCC}`, 'docker.io', 'dmcgowan/myapp', undefined, SHA256_DBCC],
  [
    'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9',
    'docker.io',
    'library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9',
    'latest',
    undefined,
  ],
  ['dbcc1', 'docker.io', 'library/dbcc1', 'latest', undefined],
  // TestNormalizedSplitHostname
  ['test.com/foo', 'test.com', 'foo', 'latest', undefined],
  ['test_com/foo', 'docker.io', 'test_com/foo', 'latest', undefined],
  ['docker/migrator', 'docker.io', 'docker/migrator', 'latest', undefined],
  ['test.com:8080/foo', 'test.com:8080', 'foo', 'latest', undefined],
  ['test-com:8080/foo', 'test-com:8080', 'foo', 'latest', undefined],
  ['foo', 'docker.io', 'library/foo', 'latest', undefined],
  ['xn--n3h.com/foo', 'xn--n3h.com', 'foo', 'latest', undefined],
  ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo', 'latest', undefined],
  ['docker.io/foo', 'docker.io', 'library/foo', 'latest', undefined],
  ['docker.io/library/foo', 'docker.io', 'library/foo', 'latest', undefined],
  ['docker.io/library/foo/bar', 'docker.io', 'library/foo/bar', 'latest', undefined],
  // TestParseDockerRef
  ['busybox', 'docker.io', 'library/busybox', 'latest', undefined],
  ['busybox:latest', 'docker.io', 'library/busybox', 'latest', undefined],
  [`busybox@${SHA256_E669}`, 'docker.io', 'library/busybox', undefined, SHA256_E669],
  ['library/busybox', 'docker.io', 'library/busybox', 'latest', undefined],
  ['docker.io/busybox', 'docker.io', 'library/busybox', 'latest', undefined],
  ['docker.io/busybox:latest', 'docker.io', 'library/busybox', 'latest', undefined],
  ['library/busybox:latest', 'docker.io', 'library/busybox', 'latest', undefined],
  ['gcr.io/library/busybox', 'gcr.io', 'library/busybox', 'latest', undefined],
  [`gcr.io/library/busybox:latest@${SHA256_E669}`, 'gcr.io', 'library/busybox', 'latest', SHA256_E669],
  // TestReferenceParse
  ['test_com', 'docker.io', 'library/test_com', 'latest', undefined],
  ['test.com:tag', 'docker.io', 'library/test.com', 'tag', undefined],
  ['test.com:5000', 'docker.io', 'library/test.com', '5000', undefined],
  ['test.com/repo:tag', 'test.com', 'repo', 'tag', undefined],
  ['test:5000/repo', 'test:5000', 'repo', 'latest', undefined],
  ['test:5000/repo:tag', 'test:5000', 'repo', 'tag', undefined],
  [`test:5000/repo@${SHA256_F}`, 'test:5000', 'repo', undefined, SHA256_F],
  [`test:5000/repo:tag@${SHA256_F}`, 'test:5000', 'repo', 'tag', SHA256_F],
  ['lowercase:Uppercase', 'docker.io', 'library/lowercase', 'Uppercase', undefined],
  [
    `${'a/'.repeat(127)}a:tag-puts-this-over-max`,
    'docker.io',
    `${'a/'.repeat(127)}a`,
    'tag-puts-this-over-max',
    undefined,
  ],
  ['sub-dom1.foo.com/bar/baz/quux', 'sub-dom1.foo.com', 'bar/baz/quux', 'latest', undefined],
  ['sub-dom1.foo.com/bar/baz/quux:some-long-tag', 'sub-dom1.foo.com', 'bar/baz/quux', 'some-long-tag', undefined],
  [
    'b.gcr.io/test.example.com/my-app:test.example.com',
    'b.gcr.io',
    'test.example.com/my-app',
    'test.example.com',
    undefined,
  ],
  ['xn--n3h.com/myimage:xn--n3h.com', 'xn--n3h.com', 'myimage', 'xn--n3h.com', undefined],
  [`xn--7o8h.com/myimage:xn--7o8h.com@${SHA512_F}`, 'xn--7o8h.com', 'myimage', 'xn--7o8h.com', SHA512_F],
  ['foo_bar.com:8080', 'docker.io', 'library/foo_bar.com', '8080', undefined],
  ['foo/foo_bar.com:8080', 'docker.io', 'foo/foo_bar.com', '8080', undefined],
  ['192.168.1.1', 'docker.io', 'library/192.168.1.1', 'latest', undefined],
  ['192.168.1.1:tag', 'docker.io', 'library/192.168.1.1', 'tag', undefined],
  ['192.168.1.1:5000', 'docker.io', 'library/192.168.1.1', '5000', undefined],
  ['192.168.1.1/repo', '192.168.1.1', 'repo', 'latest', undefined],
  ['192.168.1.1:5000/repo', '192.168.1.1:5000', 'repo', 'latest', undefined],
  ['192.168.1.1:5000/repo:5050', '192.168.1.1:5000', 'repo', '5050', undefined],
  ['[2001:db8::1]/repo', '[2001:db8::1]', 'repo', 'latest', undefined],
  ['[2001:db8:1:2:3:4:5:6]/repo:tag', '[2001:db8:1:2:3:4:5:6]', 'repo', 'tag', undefined],
  ['[2001:db8::1]:5000/repo', '[2001:db8::1]:5000', 'repo', 'latest', undefined],
  ['[2001:db8::1]:5000/repo:tag', '[2001:db8::1]:5000', 'repo', 'tag', undefined],
  [`[2001:db8::1]:5000/repo@${SHA256_F}`, '[2001:db8::1]:5000', 'repo', undefined, SHA256_F],
  [`[2001:db8::1]:5000/repo:tag@${SHA256_F}`, '[2001:db8::1]:5000', 'repo', 'tag', SHA256_F],
  ['[2001:db8::]:5000/repo', '[2001:db8::]:5000', 'repo', 'latest', undefined],
  ['[::1]:5000/repo', '[::1]:5000', 'repo', 'latest', undefined],
  ['example.com:8000/named:tagged', 'example.com:8000', 'named', 'tagged', undefined],
  [
    'other.com/named@sha256:1234567890098765432112345667890098765432112345667890098765432112',
    'other.com',
    'named',
    undefined,
    'sha256:1234567890098765432112345667890098765432112345667890098765432112',
  ],
  ['test.com:8000/foo:TAG5', 'test.com:8000', 'foo', 'TAG5', undefined],
  // TestFullNameRegexp / TestReferenceRegexp (name part), normalised
  ['short', 'docker.io', 'library/short', 'latest', undefined],
  ['simple/name', 'docker.io', 'simple/name', 'latest', undefined],
  ['docker/stevvooe/app', 'docker.io', 'docker/stevvooe/app', 'latest', undefined],
  ['aa/aa/bb/bb/bb', 'docker.io', 'aa/aa/bb/bb/bb', 'latest', undefined],
  ['a/a/a/a', 'docker.io', 'a/a/a/a', 'latest', undefined],
  ['a', 'docker.io', 'library/a', 'latest', undefined],
  ['foo.com', 'docker.io', 'library/foo.com', 'latest', undefined],
  ['foo.com:8080/bar', 'foo.com:8080', 'bar', 'latest', undefined],
  ['foo.com/bar/baz', 'foo.com', 'bar/baz', 'latest', undefined],
  ['localhost:8080/bar', 'localhost:8080', 'bar', 'latest', undefined],
  ['blog.foo.com/bar/baz', 'blog.foo.com', 'bar/baz', 'latest', undefined],
  ['aa-a/a', 'docker.io', 'aa-a/a', 'latest', undefined],
  ['foo_bar', 'docker.io', 'library/foo_bar', 'latest', undefined],
  ['foo.com/foo_bar', 'foo.com', 'foo_bar', 'latest', undefined],
  ['example.com/xn--7o8h.com/myimage', 'example.com', 'xn--7o8h.com/myimage', 'latest', undefined],
  [
    'example.com/some_separator__underscore/myimage',
    'example.com',
    'some_separator__underscore/myimage',
    'latest',
    undefined,
  ],
  ['do__cker/docker', 'docker.io', 'do__cker/docker', 'latest', undefined],
  [
    'registry.io/foo/project--id.module--name.ver---sion--name',
    'registry.io',
    'foo/project--id.module--name.ver---sion--name',
    'latest',
    undefined,
  ],
  ['Asdf.com/foo/bar', 'Asdf.com', 'foo/bar', 'latest', undefined],
  ['registry.com:8080/myapp:tag', 'registry.com:8080', 'myapp', 'tag', undefined],
  [`registry.com:8080/myapp@${SHA256_BE}`, 'registry.com:8080', 'myapp', undefined, SHA256_BE],
  [`registry.com:8080/myapp:tag2@${SHA256_BE}`, 'registry.com:8080', 'myapp', 'tag2', SHA256_BE],
  // localhost without "/" is an image name on the Hub, as in Docker
  [`localhost:8080@${SHA256_BE}`, 'docker.io', 'library/localhost', '8080', SHA256_BE],
  [`localhost:8080/name@${SHA256_BE}`, 'localhost:8080', 'name', undefined, SHA256_BE],
  [`localhost@${SHA256_BE}`, 'docker.io', 'library/localhost', undefined, SHA256_BE],
  // TestDomainRegexp hosts that Docker's grammar accepts (tested in front of a repository)
  ['test.com:10304/x', 'test.com:10304', 'x', 'latest', undefined],
  ['a.b/x', 'a.b', 'x', 'latest', undefined],
  ['ab.cd.com/x', 'ab.cd.com', 'x', 'latest', undefined],
  ['a-b.com/x', 'a-b.com', 'x', 'latest', undefined],
  ['ab.c-om/x', 'ab.c-om', 'x', 'latest', undefined],
  ['0101.com/x', '0101.com', 'x', 'latest', undefined],
  ['001a.com/x', '001a.com', 'x', 'latest', undefined],
  ['b.gbc.io:443/x', 'b.gbc.io:443', 'x', 'latest', undefined],
  [
    '[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:5000/x',
    '[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:5000',
    'x',
    'latest',
    undefined,
  ],
  // The brief's own rules
  ['nginx', 'docker.io', 'library/nginx', 'latest', undefined],
  ['user/app', 'docker.io', 'user/app', 'latest', undefined],
  ['host:5000/a/b/c:tag', 'host:5000', 'a/b/c', 'tag', undefined],
  ['[fc00::1]:5000/x', '[fc00::1]:5000', 'x', 'latest', undefined],
  ['localhost/x', 'localhost', 'x', 'latest', undefined],
  ['localhost', 'docker.io', 'library/localhost', 'latest', undefined],
  ['registry-1.docker.io/nginx', 'docker.io', 'library/nginx', 'latest', undefined],
  ['registry-1.docker.io/user/app:1', 'docker.io', 'user/app', '1', undefined],
  ['Docker.IO/nginx', 'docker.io', 'library/nginx', 'latest', undefined],
  [`nginx:1.27@${SHA256_F}`, 'docker.io', 'library/nginx', '1.27', SHA256_F],
  ['  nginx:1.27\n', 'docker.io', 'library/nginx', '1.27', undefined],
  ['docker://nginx', 'docker.io', 'library/nginx', 'latest', undefined],
  ['docker://ghcr.io/owner/app:v1', 'ghcr.io', 'owner/app', 'v1', undefined],
  ['ghcr.io/x/y', 'ghcr.io', 'x/y', 'latest', undefined],
  ['n:_x', 'docker.io', 'library/n', '_x', undefined],
  [`n:${'t'.repeat(128)}`, 'docker.io', 'library/n', 't'.repeat(128), undefined],
  [`n@sha384:${'a'.repeat(96)}`, 'docker.io', 'library/n', undefined, `sha384:${'a'.repeat(96)}`],
  // Unregistered algorithms that fit the grammar parse (Docker itself refuses them as unsupported)
  [
    `validname@invaliddigest:${'f'.repeat(64)}`,
    'docker.io',
    'library/validname',
    undefined,
    `invaliddigest:${'f'.repeat(64)}`,
  ],
  [`n@multihash+base58:${'A'.repeat(32)}`, 'docker.io', 'library/n', undefined, `multihash+base58:${'A'.repeat(32)}`],
  // Longest Hub name that fits once "library/" is added
  ['a'.repeat(247), 'docker.io', `library/${'a'.repeat(247)}`, 'latest', undefined],
  [`h.io/${'a'.repeat(255)}`, 'h.io', 'a'.repeat(255), 'latest', undefined],
];

/** [input, substring the message must contain]. */
test('parses the ported distribution/reference vectors and the brief rules', () => {
  for (const [input, registry, repository, tag, digest] of VALID) {
    const parsed = parseReference(input);
    assert.deepEqual(parsed, ref(registry, repository, tag, digest), `input ${JSON.stringify(input)}`);
  }
});

test('formatReference gives the canonical full form and round-trips', () => {
  assert.equal(formatReference(parseReference('nginx')), 'docker.io/library/nginx:latest');
  assert.equal(formatReference(parseReference(`host:5000/a/b@${SHA256_F}`)), `host:5000/a/b@${SHA256_F}`);
  assert.equal(formatReference(parseReference(`nginx:1.27@${SHA256_F}`)), `docker.io/library/nginx:1.27@${SHA256_F}`);
  assert.equal(formatReference(parseReference('[::1]:5000/repo:tag')), '[::1]:5000/repo:tag');
  assert.equal(formatReference({ registry: 'ghcr.io', repository: 'x/y' }), 'ghcr.io/x/y');
  for (const [input] of VALID) {
    const parsed = parseReference(input);
    assert.deepEqual(parseReference(formatReference(parsed)), parsed, `round trip of ${JSON.stringify(input)}`);
  }
});
