/** parseReference refusing what docker refuses, with a message that says why; and a fuzz of both. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SkiffError } from '../errors.ts';
import { familiarName, formatReference, parseReference, type ImageReference } from './reference.ts';
import { prng } from '../../../test/support/prng.ts';

const SHA256_F = `sha256:${'f'.repeat(64)}`;
const SHA256_BE = 'sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912';
const SHA256_DBCC = 'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';
const HEX64 = '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a';

// Vectors ported from distribution/reference (normalize_test.go, reference_test.go, regexp_test.go),
// rewritten to what ParseNormalizedNamed + TagNameOnly yield, i.e. what `docker pull` fetches.
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
