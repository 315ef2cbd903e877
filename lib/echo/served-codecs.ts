// Codec capabilities narrowed to the codec a stream carries, each with the rtcp-fb the default
// policy modules serve (what RTCPeerConnection offers when it picks codecs itself, docs/policy.md),
// for a peer connection that must negotiate exactly that codec (whip-client files, WHEP players).
import { defaultRtpPolicies } from '../peer/rtp-policy.js';
import type { MediaKind } from '../peer/index.js';
import { defaultCodecs } from '../sdp/default-capabilities.js';
import type { CodecCapability } from '../sdp/capabilities.js';
import type { RtcpFeedback } from '../sdp/model.js';

/** The rtcp-fb values the installed default policy modules serve for `kind`. */
function servedFeedback(kind: MediaKind): RtcpFeedback[] {
  const out: RtcpFeedback[] = [];
  for (const factory of defaultRtpPolicies()) {
    // A module answers which feedback it serves without being attached to anything.
    for (const f of factory.create(factory.scope === 'transceiver' ? kind : undefined).rtcpFeedback?.(kind) ?? []) {
      if (!out.some((x) => x.type === f.type && x.parameter === f.parameter)) out.push({ ...f });
    }
  }
  return out;
}

/**
 * Our default `kind` codecs that `keep` accepts (all of them when it accepts none), with the
 * served rtcp-fb, in preference order.
 */
export function servedCodecs(kind: MediaKind, keep: (c: CodecCapability) => boolean): CodecCapability[] {
  const all = defaultCodecs(kind, servedFeedback(kind));
  const kept = all.filter(keep);
  return kept.length > 0 ? kept : all;
}
