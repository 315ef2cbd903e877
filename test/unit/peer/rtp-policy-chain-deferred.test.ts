// RtpPolicyChain.deferred (docs/policy.md "When modules are made"): a chain of the library's own
// factories makes its modules at the first need, not at negotiation; until then the negotiation's
// questions and the hooks are answered as the made modules answer them, and a chain with any
// application factory is made at once.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RtpPolicyChain } from '../../../lib/peer/rtp-policy-chain.js';
import type { RtpPolicy, RtpPolicyFactory, RtpPolicyParameters } from '../../../lib/peer/rtp-policy.js';
import { defaultPolicyFactories } from '../../../lib/policy/default-policies.js';
import { RtcpGoodbye } from '../../../lib/rtp/rtcp/goodbye.js';

const transceiverFactories = defaultPolicyFactories().filter((f) => f.scope === 'transceiver');

function params(): RtpPolicyParameters {
  return {
    kind: 'video',
    cname: 'cname',
    localSsrc: 1234,
    sendStreams: [{ ssrc: 1234 }],
    sendCodec: { payloadType: 96, clockRate: 90000, rtxPayloadType: undefined },
    receiveClockRates: new Map([[96, 90000]]),
    rtcpFeedback: new Set(['nack', 'nack pli']),
    headerExtensions: new Map(),
    reducedSizeRtcp: false,
    receiverRtt: true,
  } as unknown as RtpPolicyParameters;
}

it('a deferred chain answers the negotiation and the hooks as its made modules do, with no module made', () => {
  for (const kind of ['audio', 'video'] as const) {
    const eager = new RtpPolicyChain(transceiverFactories.map((f) => f.create(kind)));
    const lazy = RtpPolicyChain.deferred(transceiverFactories, kind);
    assert.equal(lazy.materialized, false);
    assert.deepEqual(lazy.rtcpFeedback(kind), eager.rtcpFeedback(kind));
    assert.deepEqual(lazy.headerExtensions(kind), eager.headerExtensions(kind));
    assert.equal(lazy.receiverRtt(kind), eager.receiverRtt(kind));
    assert.equal(lazy.hasIncomingRtp, eager.hasIncomingRtp);
    assert.equal(lazy.hasIncomingRtcp, eager.hasIncomingRtcp);
    assert.equal(lazy.hasOutgoingRtp, eager.hasOutgoingRtp);
    assert.equal(lazy.hasForeignIncomingRtcp, false);
    assert.equal(lazy.empty, false);
    lazy.configure(10, params());
    lazy.timeout(20_000);
    assert.equal(lazy.nextTimeout(), undefined, 'no module, no timer');
    assert.equal(lazy.materialized, false, 'configure and timeouts make no module');
    // The first question about the modules makes them, configured with what negotiation gave.
    assert.deepEqual(lazy.list().map((m) => m.name), eager.list().map((m) => m.name));
    assert.equal(lazy.materialized, true);
    assert.equal(lazy.parameters?.localSsrc, 1234);
    assert.equal(typeof lazy.nextTimeout(), 'number', 'the reporter, configured when made, has its first report time');
  }
});

it('incoming RTCP, stats and a keyframe request each make the modules; an empty receive batch does not', () => {
  const viaRtcp = RtpPolicyChain.deferred(transceiverFactories, 'video');
  viaRtcp.configure(0, params());
  viaRtcp.incomingRtp(5);
  viaRtcp.incomingRtcp(5);
  assert.equal(viaRtcp.materialized, false, 'nothing received: nothing made');
  viaRtcp.rtcpInput().push(new RtcpGoodbye([5678]));
  viaRtcp.incomingRtcp(6);
  assert.equal(viaRtcp.materialized, true);
  assert.equal(viaRtcp.rtcpIn.length, 0);

  const viaStats = RtpPolicyChain.deferred(transceiverFactories, 'video');
  viaStats.configure(0, params());
  const outbound: number[] = [];
  const ignore = (): void => undefined;
  viaStats.collectStats({ inbound: ignore, outbound: (ssrc) => void outbound.push(ssrc), remoteInbound: ignore, remoteOutbound: ignore, transport: ignore });
  assert.ok(outbound.includes(1234), 'the made modules give the send stream\'s fields');
  assert.equal(viaStats.materialized, true);

  const viaKeyframe = RtpPolicyChain.deferred(transceiverFactories, 'video');
  viaKeyframe.configure(0, params());
  viaKeyframe.requestKeyframe(5678);
  assert.equal(viaKeyframe.materialized, true);
});

it('a chain stopped before its modules were made makes them stopped (no report timer)', () => {
  const chain = RtpPolicyChain.deferred(transceiverFactories, 'audio');
  chain.configure(0, params());
  chain.stop(100);
  assert.equal(chain.materialized, false);
  assert.deepEqual(chain.list().map((m) => m.name), ['rtcp-reporter', 'nack-generator', 'nack-responder', 'keyframe-requester']);
  assert.equal(chain.nextTimeout(), undefined, 'the reporter was stopped as it was made');
});

it('a chain with an application factory makes its modules at once', () => {
  let made = 0;
  const app: RtpPolicyFactory = {
    name: 'app',
    scope: 'transceiver',
    create: () => {
      made++;
      return { name: 'app' } as RtpPolicy;
    },
  };
  const chain = RtpPolicyChain.deferred([...transceiverFactories, app], 'video');
  assert.equal(chain.materialized, true);
  assert.equal(made, 1);
  assert.deepEqual(chain.list().map((m) => m.name), ['rtcp-reporter', 'nack-generator', 'nack-responder', 'keyframe-requester', 'app']);
  assert.equal(RtpPolicyChain.deferred([], 'video').materialized, true);
});
