// libwebrtc M106 (@roamhq/wrtc) applies our answer and answers our bundle-only offer (RFC 8843 §6);
// run in a child process (wrtc-peer.ts) because wrtc crashes at process exit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseSdp } from '../../../lib/sdp/index.js';
import { assertValidAnswer } from './helpers.js';
import type { WrtcExchange } from './wrtc-peer.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('libwebrtc (wrtc) accepts our SDP', () => {
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'wrtc-peer.ts')], { encoding: 'utf8', timeout: 60_000 });
  const line = child.stdout.split('\n').find((l) => l.startsWith('{'));

  it('the exchange ran to the end', () => {
    assert.ok(line !== undefined, `no result from wrtc-peer.ts (status ${child.status}, signal ${child.signal}): ${child.stderr.slice(-500)}`);
  });

  const result = line === undefined ? undefined : (JSON.parse(line) as WrtcExchange);

  it('applies our answer to its offer: both transceivers sendrecv', { skip: result === undefined }, () => {
    assertValidAnswer(parseSdp(result!.wrtcOffer), parseSdp(result!.ourAnswer));
    assert.deepEqual(result!.applied, ['sendrecv', 'sendrecv']);
  });

  it('answers our bundle-only offer with audio, video and data in one BUNDLE group', { skip: result === undefined }, () => {
    assert.ok(!result!.wrtcAnswer.startsWith('error'), result!.wrtcAnswer);
    const offer = parseSdp(result!.ourOffer);
    const answer = parseSdp(result!.wrtcAnswer);
    assert.equal(assertValidAnswer(offer, answer, 65536), 3);
    assert.deepEqual(answer.groups, [{ semantics: 'BUNDLE', mids: ['0', '1', '2'] }]);
  });
});
