// The policy modules RTCPeerConnection installs by default (docs/policy.md): RTCP reporter, NACK
// generator and responder, keyframe requester (per transceiver) and transport-cc feedback (per
// connection). Registered with lib/peer when lib/policy is loaded; the wall-clock offset and the
// randomness the modules need are read here, once per module, never inside them.
import { performance } from 'node:perf_hooks';
import { cryptoRng } from '../common/rng.js';
import { markLibraryFactory, markLibraryPolicy, setDefaultRtpPolicies, type RtpPolicyFactory } from '../peer/rtp-policy.js';
import { CongestionControlFeedback } from './congestion-control-feedback.js';
import { KeyframeRequester } from './keyframe-requester.js';
import { NackGenerator } from './nack-generator.js';
import { NackResponder } from './nack-responder.js';
import { RtcpReporter } from './rtcp-reporter.js';
import { TransportCcFeedback } from './transport-cc-feedback.js';

/**
 * The modules' randomness (report intervals, NACK responder): the OS CSPRNG drawn in 4 KiB blocks
 * (the pool ICE uses), instead of one getrandom call per value (one per report interval per
 * connection showed in the fanout server's profile, docs/bench/README.md).
 */
const policyRng = cryptoRng;

/** Unix ms minus the monotonic clock the peer connection passes as `now` (performance.now()). */
function wallClockOffsetMs(): number {
  return Date.now() - performance.now();
}

/** Factory of the RTCP reporter (scope transceiver). */
export const rtcpReporterPolicy: RtpPolicyFactory = markLibraryFactory({
  name: 'rtcp-reporter',
  scope: 'transceiver',
  create: (kind) => markLibraryPolicy(new RtcpReporter(kind, { rng: policyRng, wallClockOffsetMs: wallClockOffsetMs() })),
});

/** Factory of the NACK generator (scope transceiver). */
export const nackGeneratorPolicy: RtpPolicyFactory = markLibraryFactory({
  name: 'nack-generator',
  scope: 'transceiver',
  create: () => markLibraryPolicy(new NackGenerator({ wallClockOffsetMs: wallClockOffsetMs() })),
});

/** Factory of the NACK responder (scope transceiver). */
export const nackResponderPolicy: RtpPolicyFactory = markLibraryFactory({
  name: 'nack-responder',
  scope: 'transceiver',
  create: () => markLibraryPolicy(new NackResponder({ wallClockOffsetMs: wallClockOffsetMs(), rng: policyRng })),
});

/** Factory of the keyframe requester (scope transceiver). */
export const keyframeRequesterPolicy: RtpPolicyFactory = markLibraryFactory({
  name: 'keyframe-requester',
  scope: 'transceiver',
  create: () => markLibraryPolicy(new KeyframeRequester()),
});

/** Factory of transport-cc feedback (scope transport). */
export const transportCcFeedbackPolicy: RtpPolicyFactory = markLibraryFactory({
  name: 'transport-cc-feedback',
  scope: 'transport',
  create: () => markLibraryPolicy(new TransportCcFeedback()),
});

/** Factory of RFC 8888 congestion control feedback (scope transport; not in the default set). */
export const congestionControlFeedbackPolicy: RtpPolicyFactory = markLibraryFactory({
  name: 'ccfb-feedback',
  scope: 'transport',
  create: () => markLibraryPolicy(new CongestionControlFeedback({ wallClockOffsetMs: wallClockOffsetMs() })),
});

/** The default set, in chain order. Returns a fresh array the caller may change. */
export function defaultPolicyFactories(): RtpPolicyFactory[] {
  return [rtcpReporterPolicy, nackGeneratorPolicy, nackResponderPolicy, keyframeRequesterPolicy, transportCcFeedbackPolicy];
}

setDefaultRtpPolicies(defaultPolicyFactories);
