import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SkiffError } from '../../core/errors.ts';
import { parseReference } from '../../core/image/reference.ts';
import { en } from '../i18n/en.ts';
import { zh } from '../i18n/zh.ts';
import { adviceFor } from './advice.ts';
import { quotaIsLow, quotaLowLines } from './quota.ts';

const refused = (quota: SkiffError['quota']) =>
  new SkiffError('rate-limited', 'Manifest x: the registry is rate-limiting requests (429)', quota ? { quota } : {});
const at = Date.UTC(2026, 11, 7, 12, 0, 0);

test('Docker Hub’s 429 behind a shared relay: the quota everyone there shares, the fix, the reset', () => {
  const reference = parseReference('nginx:1.27');
  const relay = 'https://relay.example/relay';
  const advice = adviceFor(refused({ remaining: 0, limit: 100, resetSeconds: 1800 }), en, { relay, reference, at });
  assert.match(advice.lines[0]!, /429 TOOMANYREQUESTS/);
  assert.match(advice.lines[0]!, /relay at https:\/\/relay\.example\/relay shares one anonymous quota/);
  assert.match(advice.lines[1]!, /Docker Hub account or a personal access token/);
  assert.match(advice.lines[2]!, /^The quota resets at \d\d:\d\d \(in /);
  // Retold in Chinese: the same reset time, full-width punctuation.
  const told = adviceFor(refused({ resetSeconds: 1800 }), zh, { relay, reference, at });
  assert.match(told.lines.join(''), /配额将于 \d\d:\d\d 重置/);
  assert.doesNotMatch(told.lines.join(''), /[\u4e00-\u9fff][:;,()]|[:;,(][\u4e00-\u9fff]/);
});

test('signed in, the quota is the account’s; another registry’s 429 keeps the general advice', () => {
  const reference = parseReference('nginx');
  const signedIn = adviceFor(refused({ windowSeconds: 21600 }), en, { reference, hadCredentials: true, at });
  assert.match(signedIn.lines[0]!, /account you signed in with is used up/);
  assert.doesNotMatch(signedIn.lines.join(' '), /personal access token/);
  assert.match(signedIn.lines[1]!, /counts pulls over 6 h:/);
  const other = adviceFor(refused(undefined), en, { reference: parseReference('ghcr.io/a/b'), at });
  assert.deepEqual(other.lines, [en.advice.rateLimited]);
});

test('low: a tenth of the limit or 10 pulls; the notice names the relay everyone shares', () => {
  assert.equal(quotaIsLow({ remaining: 10, limit: 100 }), true);
  assert.equal(quotaIsLow({ remaining: 11, limit: 100 }), false);
  assert.equal(quotaIsLow({ remaining: 20, limit: 200 }), true);
  assert.equal(quotaIsLow({ remaining: 5 }), true);
  const lines = quotaLowLines({ remaining: 4, limit: 100 }, en, { relay: 'https://r.example/relay', at });
  assert.match(lines[0]!, /4 of 100 pulls left in the one anonymous quota that everyone using the relay at/);
  assert.equal(lines[1], en.advice.dockerHubQuotaFix);
});
