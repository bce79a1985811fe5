/**
 * Chinese text reads with Chinese punctuation: every zh string (functions called with sample arguments) is
 * scanned for ASCII `:` `,` `;` `?` `!` `(` `)` beside a CJK character, and for a space after `。`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { en } from './en.ts';
import { zh } from './zh.ts';

const CJK = '[\\u3000-\\u303f\\u4e00-\\u9fff\\uff00-\\uffef]';
const ASCII = '[:,;?!()]';
const MIXED = new RegExp(`${CJK}\\s*${ASCII}|${ASCII}\\s*${CJK}`, 'u');

/** Sample arguments that hold no punctuation of their own, so only the message's own punctuation is judged. */
function sample(fn: (...args: never[]) => unknown): unknown {
  const args = Array.from({ length: Math.max(fn.length, 3) }, (_, i) => (i === 0 ? 2 : `样例${i}`));
  // Numbers where a message counts, text where it names: try both and keep what a string comes back from.
  for (const attempt of [args, args.map(() => 2), args.map((_, i) => `样例${i}`)]) {
    try {
      const value = (fn as (...a: unknown[]) => unknown)(...attempt);
      if (value !== undefined) return value;
    } catch {
      // try the next set
    }
  }
  return undefined;
}

/** Notations copied as typed (host[:port], repository:tag): the colon there is ASCII on purpose. */
const NOTATIONS = ['[:端口]', '路径:标签'];

function strings(value: unknown, path: string, out: [string, string][]): [string, string][] {
  if (typeof value === 'string') out.push([path, NOTATIONS.reduce((t, n) => t.replace(n, ''), value)]);
  else if (typeof value === 'function') strings(sample(value as (...args: never[]) => unknown), `${path}()`, out);
  else if (Array.isArray(value)) value.forEach((v, i) => strings(v, `${path}[${i}]`, out));
  else if (value && typeof value === 'object')
    for (const [key, v] of Object.entries(value)) strings(v, path ? `${path}.${key}` : key, out);
  return out;
}

describe('简体中文 punctuation', () => {
  const all = strings(zh, '', []);

  it('finds the strings it scans (the scan itself works)', () => {
    assert.ok(all.length > 200, String(all.length));
    assert.ok(MIXED.test('速度: 1 MB/s') && MIXED.test('1 层, 326 kB') && !MIXED.test('速度：1 MB/s'));
  });

  it('uses full-width colons, commas and brackets beside Chinese text, and no space after 。', () => {
    const wrong = all.filter(([, text]) => MIXED.test(text) || /。 /.test(text));
    assert.deepEqual(wrong, []);
  });

  it('joins a label and its value, list items and sentences with the language’s own marks', () => {
    // Templates build "Speed: 1 MB/s", "1 layer, 326 kB" and "sentence. Sentence." from parts.
    for (const [label, value] of [
      [zh.speed, '1 MB/s'],
      [zh.methodLabel, '流'],
      [zh.layersCount, '4'],
    ])
      assert.doesNotMatch(`${label}${zh.colon}${value}`, MIXED);
    assert.doesNotMatch(`${zh.push.layers(1)}${zh.comma}326 kB`, MIXED);
    assert.doesNotMatch(`${zh.footerRelay('https://x/relay/')}${zh.sentenceGap}${zh.footerRelaySelf}`, /。 /);
    assert.equal(`${en.speed}${en.colon}1 MB/s`, 'Speed: 1 MB/s');
    assert.equal(`${en.footerRelaySelf}${en.sentenceGap}x`, 'The relay is run by the host of this page. x');
  });

  it('translates the configuration’s field names', () => {
    for (const key of ['entrypoint', 'cmd'] as const) assert.match(zh[key], /[\u4e00-\u9fff]/, key);
    assert.doesNotMatch(zh.advice.signIn, /镜像仓库或仓库/);
  });
});
