import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SkiffError } from '../../core/errors.ts';
import { parseReference } from '../../core/image/reference.ts';
import { portableError, revivedError } from '../engine/engine-protocol.ts';
import { en } from '../i18n/en.ts';
import { zh } from '../i18n/zh.ts';
import { parsePushTarget } from '../../core/push.ts';
import { validationText } from '../i18n/validation.ts';
import { adviceFor } from './advice.ts';

describe('advice for a push', () => {
  const hub = parseReference('docker.io/team/app:1');

  it('says what a refusal means for a push, not for a pull, in both languages', () => {
    for (const m of [en, zh]) {
      const denied = adviceFor(new SkiffError('denied', 'access denied'), m, { push: 'send', reference: hub });
      assert.deepEqual(denied.lines, [m.advice.deniedPush]);
      assert.equal(denied.detail, 'access denied');
      const missing = adviceFor(new SkiffError('not-found', 'no such repository'), m, { push: 'send' });
      assert.deepEqual(missing.lines, [m.advice.notFoundPush]);
      // Docker Hub's "pull access denied … may require docker login" is a pull's answer.
      const unauthorized = adviceFor(new SkiffError('unauthorized', 'needs credentials'), m, {
        push: 'send',
        reference: hub,
      });
      assert.deepEqual(unauthorized.lines, [m.advice.signIn]);
    }
  });

  it('tells a damaged file and a file that is not an archive apart from damage on the way', () => {
    assert.deepEqual(adviceFor(new SkiffError('digest-mismatch', 'x'), en, { push: 'send' }).lines, [
      en.advice.fileDamaged,
    ]);
    assert.deepEqual(adviceFor(new SkiffError('digest-mismatch', 'x'), en).lines, [en.advice.corrupt]);
    assert.deepEqual(adviceFor(new SkiffError('bad-manifest', 'not a tar'), zh, { push: 'read' }).lines, [
      zh.advice.notArchive,
    ]);
  });

  it('gives the same advice for an error that crossed from the engine worker', () => {
    const error = new SkiffError('denied', 'Uploading a chunk: access denied by the registry (quota)');
    const crossed = revivedError(structuredClone(portableError(error)));
    assert.deepEqual(adviceFor(crossed, en, { push: 'send' }), {
      ...adviceFor(error, en, { push: 'send' }),
      source: { error: crossed, context: { push: 'send' } },
    });
  });

  it('tells why a push target is not one in Chinese too, never in English', () => {
    const message = (() => {
      try {
        parsePushTarget(`harbor.corp/team/app@sha256:${'a'.repeat(64)}`);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('a digest is not a push target');
    })();
    const told = validationText(message, 'zh');
    assert.match(told, /请推送到标签（harbor\.corp\/team\/app:标签）/);
  });
});
