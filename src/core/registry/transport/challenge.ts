/**
 * WWW-Authenticate parsing per RFC 7235 §4.1 / §2.1 (RFC 9110 §11.6.1): a comma-separated list of
 * challenges, each `scheme [ 1*SP ( token68 / #auth-param ) ]`, with quoted-strings scanned properly
 * (commas and escaped quotes inside them are data, never separators).
 */
import { SkiffError } from '../../errors.ts';

export interface Challenge {
  /** Lower-cased auth scheme, e.g. 'bearer'. */
  scheme: string;
  /** Lower-cased parameter names to their values, unescaped. Has no prototype, so any name is safe. */
  params: Record<string, string>;
  token68?: string;
}

export function parseWwwAuthenticate(header: string): Challenge[] {
  return new ChallengeParser(header).parse();
}

const SP = 0x20;
const HTAB = 0x09;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** tchar (RFC 9110 §5.6.2): the characters of schemes, parameter names and unquoted values. */
function isTchar(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    "!#$%&'*+-.^_`|~".includes(String.fromCharCode(code))
  );
}

/** token68 body characters (RFC 7235 §2.1), before its trailing '=' padding. */
function isToken68Char(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    '-._~+/'.includes(String.fromCharCode(code))
  );
}

/** qdtext and the escaped half of quoted-pair: visible ASCII, SP, HTAB and obs-text; no controls. */
function isQuotedTextChar(code: number): boolean {
  return code === HTAB || (code >= 0x20 && code !== 0x7f);
}

class ChallengeParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parse(): Challenge[] {
    const challenges: Challenge[] = [];
    // Lists may hold empty elements (RFC 9110 §5.6.1), so stray commas are skipped, not refused.
    this.skipListSeparators();
    while (!this.atEnd()) {
      challenges.push(this.challenge());
      this.skipListSeparators();
    }
    return challenges;
  }

  /** Reads one challenge; leaves the position at the end, at a ',' or at the start of the next scheme. */
  private challenge(): Challenge {
    const scheme = this.token();
    if (scheme === '') this.fail('expected an authentication scheme');
    const challenge: Challenge = {
      scheme: scheme.toLowerCase(),
      params: Object.create(null) as Record<string, string>,
    };
    const spaces = this.skipSpaces();
    if (this.atEnd() || this.peek() === COMMA) return challenge;
    if (spaces === 0) this.fail(`expected a space after the scheme "${scheme}"`);

    const token68 = this.tryToken68();
    if (token68 !== undefined) {
      challenge.token68 = token68;
      return challenge;
    }

    for (;;) {
      const name = this.token();
      if (name === '') this.fail('expected a parameter name');
      this.skipSpaces();
      if (this.peek() !== EQUALS) this.fail(`expected "=" after the parameter name "${name}"`);
      this.pos++;
      this.skipSpaces();
      const quoted = this.peek() === DQUOTE;
      const value = quoted ? this.quotedString() : this.token();
      // A quoted "" is a legal empty value; an unquoted one must be a non-empty token.
      if (!quoted && value === '') this.fail(`expected a value for the parameter "${name}"`);
      const key = name.toLowerCase();
      // RFC 7235 allows each name once; two realms would leave it unclear where credentials go.
      if (Object.hasOwn(challenge.params, key)) this.fail(`the parameter "${key}" appears twice`);
      challenge.params[key] = value;

      this.skipSpaces();
      if (this.atEnd()) return challenge;
      if (this.peek() !== COMMA) this.fail(`expected "," after the value of "${name}"`);
      this.skipListSeparators();
      if (this.atEnd()) return challenge;
      // After a comma comes either another parameter (token then "=") or the next challenge's scheme.
      const mark = this.pos;
      if (this.token() === '') this.fail('expected a parameter name or an authentication scheme');
      this.skipSpaces();
      const isParam = this.peek() === EQUALS;
      this.pos = mark;
      if (!isParam) return challenge;
    }
  }

  /** A token68 counts only if it runs to the end of the challenge; otherwise the position is restored. */
  private tryToken68(): string | undefined {
    const start = this.pos;
    while (!this.atEnd() && isToken68Char(this.peek())) this.pos++;
    if (this.pos === start) return undefined;
    while (this.peek() === EQUALS) this.pos++;
    const end = this.pos;
    this.skipSpaces();
    if (this.atEnd() || this.peek() === COMMA) return this.text.slice(start, end);
    this.pos = start;
    return undefined;
  }

  private quotedString(): string {
    const open = this.pos;
    this.pos++;
    let value = '';
    let runStart = this.pos;
    for (;;) {
      if (this.atEnd()) this.fail('unterminated quoted string', open);
      const code = this.peek();
      if (code === DQUOTE) {
        value += this.text.slice(runStart, this.pos);
        this.pos++;
        return value;
      }
      if (code === BACKSLASH) {
        value += this.text.slice(runStart, this.pos);
        this.pos++;
        if (this.atEnd()) this.fail('unterminated quoted string', open);
        if (!isQuotedTextChar(this.peek())) this.fail('a control character is escaped in a quoted string');
        runStart = this.pos;
        this.pos++;
        continue;
      }
      if (!isQuotedTextChar(code)) this.fail('a control character is inside a quoted string');
      this.pos++;
    }
  }

  private token(): string {
    const start = this.pos;
    while (!this.atEnd() && isTchar(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  private skipSpaces(): number {
    const start = this.pos;
    while (this.peek() === SP || this.peek() === HTAB) this.pos++;
    return this.pos - start;
  }

  private skipListSeparators(): void {
    while (this.peek() === SP || this.peek() === HTAB || this.peek() === COMMA) this.pos++;
  }

  private atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  /** The code unit at the position, NaN at the end (which compares unequal to everything). */
  private peek(): number {
    return this.text.charCodeAt(this.pos);
  }

  private fail(problem: string, at = this.pos): never {
    const shown = this.text.length > 200 ? `${this.text.slice(0, 197)}...` : this.text;
    throw new SkiffError(
      'bad-challenge',
      `malformed WWW-Authenticate header: ${problem} at character ${at + 1} in ${JSON.stringify(shown)}`,
    );
  }
}
