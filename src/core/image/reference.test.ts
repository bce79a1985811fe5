import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SkiffError } from '../errors.ts';
import {
  familiarName,
  formatReference,
  isLoopbackHost,
  parseReference,
  registryApiHost,
  type ImageReference,
} from './reference.ts';
import { prng } from '../../../test/support/prng.ts';

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
const INVALID: [string, string][] = [
  // TestValidateReferenceName
  ['https://github.com/docker/docker', 'not a URL'],
  ['docker/Docker', 'uppercase letters are only allowed in the registry host: "docker/Docker"'],
  ['-docker', 'component "-docker" is invalid'],
  ['-docker/docker', 'component "-docker" is invalid'],
  ['-docker.io/docker/docker', 'registry host "-docker.io" is invalid'],
  ['docker///docker', 'empty path component'],
  ['docker.io/docker/Docker', 'uppercase letters are only allowed in the registry host'],
  ['docker.io/docker///docker', 'empty path component'],
  ['[fc00::1]', 'registry host without a repository'],
  ['[fc00::1]:5000', 'registry host without a repository'],
  ['fc00::1:5000/debian', 'must be written in brackets'],
  ['[fe80::1%eth0]:5000/debian', 'is not an IPv6 address'],
  ['[2001:db8:3:4::192.0.2.33]:5000/debian', 'is not an IPv6 address'],
  [HEX64, 'a 64-character hex string is an image ID, not a name'],
  // TestValidateRemoteName
  ['docker-/docker', 'component "docker-" is invalid'],
  ['-docker-/docker', 'component "-docker-" is invalid'],
  ['____/____', 'component "____" is invalid'],
  ['_docker/_docker', 'component "_docker" is invalid'],
  ['dock..er/docker', 'registry host "dock..er" is invalid'],
  ['dock_.er/docker', 'registry host "dock_.er" is invalid'],
  ['dock-.er/docker', 'registry host "dock-.er" is invalid'],
  ['docker/', 'empty path component'],
  [
    'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker',
    'name is longer than 255 characters',
  ],
  // TestReferenceParse
  ['', 'empty reference'],
  [':justtag', 'no repository name'],
  [`@${SHA256_F}`, 'no repository name'],
  ['repo@sha256:ffffffffffffffffffffffffffffffffff', 'a sha256 digest has 64 hex characters, this one has 34'],
  ['Uppercase:tag', 'uppercase letters are only allowed in the registry host: "Uppercase"'],
  [
    'test:5000/Uppercase/lowercase:tag',
    'uppercase letters are only allowed in the registry host: "Uppercase/lowercase"',
  ],
  [`${'a/'.repeat(128)}a:tag`, 'name is longer than 255 characters'],
  ['aa/asdf$$^/aa', 'component "asdf$$^" is invalid'],
  ['[2001:db8::1]', 'registry host without a repository'],
  ['[2001:db8::1]:5000', 'registry host without a repository'],
  ['[2001:db8::1]:tag', 'registry host without a repository'],
  ['[fe80::1%eth0]:5000/repo', 'is not an IPv6 address'],
  ['[fe80::1%@invalidzone]:5000/repo', 'is not an IPv6 address'],
  // TestFullNameRegexp / TestReferenceRegexp
  ['a/a/a/a/', 'empty path component'],
  ['a//a/a', 'empty path component'],
  ['foo.com/', 'no repository name after "foo.com/"'],
  ['foo.com:http/bar', 'port "http" is not a number'],
  ['a^a', 'component "a^a" is invalid'],
  ['asdf$$^/aa', 'component "asdf$$^" is invalid'],
  ['a-/a/a/a', 'component "a-" is invalid'],
  ['foo.com/a-/a/a', 'component "a-" is invalid'],
  ['foo/bar-', 'component "bar-" is invalid'],
  ['foo-/bar', 'component "foo-" is invalid'],
  ['foo/-bar', 'component "-bar" is invalid'],
  ['_foo/bar', 'component "_foo" is invalid'],
  ['foo_bar.com:8080/app', 'registry host "foo_bar.com:8080" is invalid'],
  ['example.com/__underscore/myimage', 'component "__underscore" is invalid'],
  ['example.com/..dots/myimage', 'component "..dots" is invalid'],
  ['example.com/.dots/myimage', 'component ".dots" is invalid'],
  ['example.com/nodouble..dots/myimage', 'component "nodouble..dots" is invalid'],
  ['docker./docker', 'registry host "docker." is invalid'],
  ['.docker/docker', 'registry host ".docker" is invalid'],
  ['do..cker/docker', 'registry host "do..cker" is invalid'],
  ['do__cker:8080/docker', 'registry host "do__cker:8080" is invalid'],
  ['Foo/FarB', 'uppercase letters are only allowed in the registry host: "FarB"'],
  ['registry.com:8080/myapp@sha256:badbadbadbad', 'a sha256 digest has 64 hex characters'],
  ['registry.com:8080/myapp:invalid~tag', 'tag "invalid~tag" is invalid: "~" is not allowed'],
  ['bad_hostname.com:8080/myapp:tag', 'registry host "bad_hostname.com:8080" is invalid'],
  [`localhost:http/name@${SHA256_BE}`, 'port "http" is not a number'],
  ['registry.com:8080/myapp@bad', 'expected "algorithm:hex"'],
  ['registry.com:8080/myapp@2bad', 'expected "algorithm:hex"'],
  // TestDomainRegexp hosts that Docker refuses
  ['test.com:http/x', 'port "http" is not a number'],
  ['-ab.com/x', 'registry host "-ab.com" is invalid'],
  ['ab-.com/x', 'registry host "ab-.com" is invalid'],
  ['ab.-com/x', 'registry host "ab.-com" is invalid'],
  ['ab.com-/x', 'registry host "ab.com-" is invalid'],
  ['[fd00:1:2::3]75050/x', 'only ":port" may follow "]"'],
  ['[fd00:1:2::3]::75050/x', 'port ":75050" is not a number'],
  ['[fd00:1:2::3%eth0]:75050/x', 'is not an IPv6 address'],
  ['fd00:1:2::3:75050/x', 'must be written in brackets'],
  // Docker's grammar lets these through and fails later on connect; refused here (see reference.ts)
  ['192.168.1.1:75050/x', 'port 75050 is not between 1 and 65535'],
  ['[fd00123123123]:5000/x', 'is not an IPv6 address'],
  ['[1:2:3:4:5:6:7:8:9]/x', 'is not an IPv6 address'],
  ['[1::2::3]/x', 'is not an IPv6 address'],
  ['host:0/x', 'port 0 is not between 1 and 65535'],
  // TestIdentifierRegexp: uppercase 64-hex is not an ID, so it fails as an uppercase name, as in Docker
  [
    '7EC43B381E5AEFE6E04EFB0B3F0693FF2A4A50652D64AEC573905F2DB5889A1C',
    'uppercase letters are only allowed in the registry host',
  ],
  // Refused here though Docker reads it as library/sha256 with a tag
  [SHA256_DBCC, 'is a digest without a name'],
  // The brief's own rules
  ['Nginx', 'uppercase letters are only allowed in the registry host: "Nginx"'],
  ['   ', 'empty reference'],
  ['docker://', 'empty reference'],
  ['ngi nx', 'cannot contain whitespace'],
  ['nginx :latest', 'cannot contain whitespace'],
  ['nginx:', 'tag "" is invalid'],
  ['nginx:-x', 'tag "-x" is invalid: it must start with a letter, a digit or "_"'],
  ['nginx:.x', 'tag ".x" is invalid'],
  [`nginx:${'t'.repeat(129)}`, 'at most 128 are allowed'],
  ['nginx:a:b', 'tag "a:b" is invalid: ":" is not allowed'],
  ['nginx@', 'digest "" is invalid'],
  [`nginx@sha256:${'F'.repeat(64)}`, 'a sha256 digest is lowercase hex'],
  [`nginx@sha512:${'f'.repeat(64)}`, 'a sha512 digest has 128 hex characters, this one has 64'],
  [`nginx@SHA256:${'f'.repeat(64)}`, '"SHA256" is not a digest algorithm name'],
  [`nginx@sha256:${'f'.repeat(64)}@x`, 'digest'],
  [`nginx@foo:${'f'.repeat(31)}`, 'at least 32 hex characters must follow "foo:"'],
  ['a'.repeat(248), 'name is longer than 255 characters'],
  [`h.io/${'a'.repeat(256)}`, 'name is longer than 255 characters'],
  ['oci://ghcr.io/x/y', 'not a URL'],
  ['/nginx', 'empty path component'],
  ['[fc00::1/x', '"]" is missing'],
];

test('parses the ported distribution/reference vectors and the brief rules', () => {
  for (const [input, registry, repository, tag, digest] of VALID) {
    const parsed = parseReference(input);
    assert.deepEqual(parsed, ref(registry, repository, tag, digest), `input ${JSON.stringify(input)}`);
  }
});

test('refuses invalid references with a SkiffError that says what is wrong', () => {
  for (const [input, fragment] of INVALID) {
    assert.throws(
      () => parseReference(input),
      (error: unknown) => {
        assert.ok(error instanceof SkiffError, `input ${JSON.stringify(input)} threw ${String(error)}`);
        assert.equal(error.code, 'invalid-reference');
        assert.ok(
          error.message.includes(fragment),
          `input ${JSON.stringify(input)}: message ${JSON.stringify(error.message)} lacks ${JSON.stringify(fragment)}`,
        );
        return true;
      },
      `input ${JSON.stringify(input)} should be refused`,
    );
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

test('fuzz: parseReference only ever throws SkiffError, and what it accepts round-trips', () => {
  const pieces = [
    'a',
    'b',
    'A',
    '0',
    '5000',
    '/',
    '/',
    ':',
    '@',
    '.',
    '-',
    '_',
    '__',
    '[',
    ']',
    '::1',
    ' ',
    '%',
    'localhost',
    'docker.io',
    'index.docker.io',
    'library',
    'docker://',
    'sha256:',
    'f'.repeat(32),
    'f'.repeat(64),
  ];
  const random = prng(0x5eed);
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    let input = '';
    const count = Math.floor(random() * 12);
    for (let j = 0; j < count; j++) input += pieces[Math.floor(random() * pieces.length)];
    let parsed: ImageReference;
    try {
      parsed = parseReference(input);
    } catch (error) {
      assert.ok(
        error instanceof SkiffError && error.code === 'invalid-reference',
        `input ${JSON.stringify(input)} threw ${String(error)}`,
      );
      continue;
    }
    accepted++;
    assert.deepEqual(parseReference(formatReference(parsed)), parsed, `round trip of ${JSON.stringify(input)}`);
    const familiar = parseReference(familiarName(parsed));
    assert.equal(familiar.registry, parsed.registry, `familiar registry of ${JSON.stringify(input)}`);
    assert.equal(familiar.repository, parsed.repository, `familiar repository of ${JSON.stringify(input)}`);
  }
  assert.ok(accepted > 100, `the fuzz alphabet should produce some valid references (got ${accepted})`);
});
