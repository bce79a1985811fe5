import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SkiffError } from '../../errors.ts';
import { parseWwwAuthenticate, type Challenge } from './challenge.ts';
import { prng } from '../../../../test/support/prng.ts';

/** params has no prototype; copy it to a plain object so deepEqual compares contents only. */
function plain(challenges: Challenge[]): Challenge[] {
  return challenges.map((c) => ({ ...c, params: { ...c.params } }));
}

function parse(header: string): Challenge[] {
  return plain(parseWwwAuthenticate(header));
}

test('Docker Hub bearer challenge', () => {
  assert.deepEqual(
    parse(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
    ),
    [
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/nginx:pull',
        },
      },
    ],
  );
});

test('basic challenge with a space in the realm', () => {
  assert.deepEqual(parse('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
});

test('commas inside quoted values and spaces after commas', () => {
  assert.deepEqual(parse('Bearer realm="https://x/token", service="a,b", scope="repository:a/b:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'https://x/token', service: 'a,b', scope: 'repository:a/b:pull,push' } },
  ]);
});

test('two challenges in one header', () => {
  assert.deepEqual(parse('Basic realm="x", Bearer realm="y",service="z"'), [
    { scheme: 'basic', params: { realm: 'x' } },
    { scheme: 'bearer', params: { realm: 'y', service: 'z' } },
  ]);
  assert.deepEqual(parse('Negotiate, Basic realm=x'), [
    { scheme: 'negotiate', params: {} },
    { scheme: 'basic', params: { realm: 'x' } },
  ]);
  assert.deepEqual(parse('Negotiate abc==, Bearer realm="r"'), [
    { scheme: 'negotiate', params: {}, token68: 'abc==' },
    { scheme: 'bearer', params: { realm: 'r' } },
  ]);
  assert.deepEqual(parse('Bearer realm="r", Negotiate abc=='), [
    { scheme: 'bearer', params: { realm: 'r' } },
    { scheme: 'negotiate', params: {}, token68: 'abc==' },
  ]);
});

test('backslash escapes in quoted strings are undone', () => {
  assert.deepEqual(parse('Bearer realm="a\\"b"'), [{ scheme: 'bearer', params: { realm: 'a"b' } }]);
  assert.deepEqual(parse('Bearer realm="a\\\\b", error="x\\y"'), [
    { scheme: 'bearer', params: { realm: 'a\\b', error: 'xy' } },
  ]);
  assert.deepEqual(parse('Bearer realm=""'), [{ scheme: 'bearer', params: { realm: '' } }]);
});

test('scheme and parameter names are case-insensitive, values are kept as given', () => {
  assert.deepEqual(parse('BEARER REALM=x'), [{ scheme: 'bearer', params: { realm: 'x' } }]);
  assert.deepEqual(parse('bEaReR Realm="HTTPS://Auth/Token"'), [
    { scheme: 'bearer', params: { realm: 'HTTPS://Auth/Token' } },
  ]);
});

test('token68', () => {
  assert.deepEqual(parse('Negotiate abc=='), [{ scheme: 'negotiate', params: {}, token68: 'abc==' }]);
  assert.deepEqual(parse('Basic dXNlcjpwYXNz'), [{ scheme: 'basic', params: {}, token68: 'dXNlcjpwYXNz' }]);
  assert.deepEqual(parse('Custom a-b._~+/c='), [{ scheme: 'custom', params: {}, token68: 'a-b._~+/c=' }]);
  // A lone word after the scheme is a token68 by the grammar, not a parameter without a value.
  assert.deepEqual(parse('Bearer realm'), [{ scheme: 'bearer', params: {}, token68: 'realm' }]);
  assert.deepEqual(parse('Bearer realm='), [{ scheme: 'bearer', params: {}, token68: 'realm=' }]);
});

test('whitespace around "=" and ",", and empty list elements, are accepted', () => {
  assert.deepEqual(parse('  Bearer   realm = "r" ,\tservice\t=\ts  ,  '), [
    { scheme: 'bearer', params: { realm: 'r', service: 's' } },
  ]);
  assert.deepEqual(parse(', , Basic realm=x ,, Bearer realm=y,'), [
    { scheme: 'basic', params: { realm: 'x' } },
    { scheme: 'bearer', params: { realm: 'y' } },
  ]);
});

test('a scheme alone is a challenge without parameters', () => {
  assert.deepEqual(parse('Bearer'), [{ scheme: 'bearer', params: {} }]);
});

test('empty header gives no challenges', () => {
  assert.deepEqual(parse(''), []);
  assert.deepEqual(parse('   '), []);
  assert.deepEqual(parse(' , '), []);
});

test('a parameter named like an Object.prototype member is just data', () => {
  const [challenge] = parseWwwAuthenticate('Bearer __proto__="x", constructor=y');
  assert.ok(challenge);
  assert.equal(Object.getPrototypeOf(challenge.params), null);
  assert.equal(challenge.params['__proto__'], 'x');
  assert.equal(challenge.params['constructor'], 'y');
  assert.equal(parseWwwAuthenticate('Bearer realm=x')[0]?.params['toString'], undefined);
});

test('malformed headers throw SkiffError("bad-challenge") with a clear message', () => {
  const cases: [string, string][] = [
    ['Bearer realm="https://auth', 'unterminated quoted string at character 14'],
    ['Bearer realm="abc\\', 'unterminated quoted string'],
    ['Bearer =value', 'expected a parameter name'],
    ['=value', 'expected an authentication scheme at character 1'],
    ['Bearer realm="x", =value', 'expected a parameter name or an authentication scheme'],
    ['"Bearer"', 'expected an authentication scheme'],
    ['@@@', 'expected an authentication scheme'],
    ['Bearer realm=x, service=', 'expected a value for the parameter "service"'],
    ['Bearer realm=x, service= ,scope=y', 'expected a value for the parameter "service"'],
    ['Bearer realm==x', 'expected a value for the parameter "realm"'],
    ['Bearer realm="x" service="y"', 'expected "," after the value of "realm"'],
    ['Bearer realm=x junk', 'expected "," after the value of "realm"'],
    ['Bearer realm="x"garbage', 'expected "," after the value of "realm"'],
    ['Bearer realm x', 'expected "=" after the parameter name "realm"'],
    ['Bearer@ realm=x', 'expected a space after the scheme "Bearer"'],
    ['Bearer realm="a\u0000b"', 'control character'],
    ['Bearer realm="a\\\u0001"', 'control character'],
    ['Bearer realm=x, realm=y', 'the parameter "realm" appears twice'],
    ['Bearer realm=x, REALM=y', 'the parameter "realm" appears twice'],
    ['Bearer realm=x, service="y', 'unterminated quoted string'],
  ];
  for (const [header, fragment] of cases) {
    assert.throws(
      () => parseWwwAuthenticate(header),
      (error: unknown) => {
        assert.ok(error instanceof SkiffError, `${JSON.stringify(header)} threw ${String(error)}`);
        assert.equal(error.code, 'bad-challenge');
        assert.ok(
          error.message.includes(fragment),
          `${JSON.stringify(header)}: ${JSON.stringify(error.message)} lacks ${JSON.stringify(fragment)}`,
        );
        return true;
      },
      `${JSON.stringify(header)} should be refused`,
    );
  }
});

test('fuzz: only SkiffError("bad-challenge") is ever thrown, and parsing terminates', () => {
  const pieces = ['a', '=', ',', '"', '\\', ' ', 'Bearer', 'realm'];
  const random = prng(0xc0ffee);
  let parsed = 0;
  let refused = 0;
  for (let i = 0; i < 20_000; i++) {
    let header = '';
    const count = Math.floor(random() * 16);
    for (let j = 0; j < count; j++) header += pieces[Math.floor(random() * pieces.length)];
    try {
      const challenges = parseWwwAuthenticate(header);
      parsed++;
      for (const challenge of challenges) {
        assert.match(challenge.scheme, /^[a-z]+$/, JSON.stringify(header));
        assert.ok(
          challenge.token68 === undefined || Object.keys(challenge.params).length === 0,
          JSON.stringify(header),
        );
      }
    } catch (error) {
      assert.ok(
        error instanceof SkiffError && error.code === 'bad-challenge',
        `${JSON.stringify(header)} threw ${String(error)}`,
      );
      refused++;
    }
  }
  // Both outcomes should be exercised, or the alphabet is not probing the parser.
  assert.ok(parsed > 1000 && refused > 1000, `parsed ${parsed}, refused ${refused}`);
});
