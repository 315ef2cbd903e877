// What an RTP m-section negotiated, as lib/peer needs it (RFC 4588 §8 RTX, RFC 8285 ids, RFC 5576 SSRCs,
// RFC 8830 msid, RFC 8851 rids), and capabilities that keep it in later offers (RFC 8829 §5.2.2).
import type { CodecCapability, HeaderExtensionCapability, RtpMediaKind } from './capabilities.js';
import { isRtxCodec, rtxAssociatedPayloadType } from './codec-match.js';
import type { MediaDirection, SdpCodec, SdpMediaSection, SdpMsid, SdpRid, SdpSimulcast } from './model.js';
import { filterList, mapList } from '../common/list-map.js';

/** A sender announced in an m-section. */
export interface AnnouncedSender {
  /** Primary SSRC. */
  ssrc: number;
  /** RTX SSRC paired by `ssrc-group:FID`, when announced. */
  rtxSsrc?: number;
  /** `a=ssrc:<ssrc> cname:`, when announced. */
  cname?: string;
}

/** The RTP parameters of one m-section. */
export interface RtpSectionParameters {
  /** The section's mid. */
  mid: string | undefined;
  /** `audio` or `video`. */
  kind: RtpMediaKind;
  /** The section's direction (`sendrecv` when absent), from the point of view of its writer. */
  direction: MediaDirection;
  /** Media codecs in preference order (RTX excluded). */
  codecs: SdpCodec[];
  /** RTX payload type per associated media payload type. */
  rtxPayloadTypes: Map<number, number>;
  /** Header extension URI per id. */
  headerExtensions: Map<number, string>;
  /** Senders announced with `a=ssrc` (simulcast senders announce none: match them by rid). */
  senders: AnnouncedSender[];
  /** `a=msid` of the section (falls back to `a=ssrc:<ssrc> msid:` of older peers). */
  msids: SdpMsid[];
  /** `a=rid` lines. */
  rids: SdpRid[];
  /** `a=simulcast`, if any. */
  simulcast?: SdpSimulcast;
  /** `a=rtcp-rsize` was negotiated. */
  rtcpReducedSize: boolean;
  /** `a=rtcp-xr:rcvr-rtt=all` (RFC 3611 §5.1) is in the section. */
  receiverRtt: boolean;
}

/** Summarizes an RTP m-section (an answer's, for what was negotiated; an offer's, for what was proposed). */
export function describeRtpSection(section: SdpMediaSection, sessionDirection?: MediaDirection): RtpSectionParameters {
  const rtxPayloadTypes = new Map<number, number>();
  for (let i = 0; i < section.codecs.length; i++) {
    const c = section.codecs[i]!;
    const apt = isRtxCodec(c) ? rtxAssociatedPayloadType(c) : undefined;
    if (apt !== undefined && !rtxPayloadTypes.has(apt)) rtxPayloadTypes.set(apt, c.payloadType);
  }
  const headerExtensions = new Map<number, string>();
  for (let i = 0; i < section.extmaps.length; i++) {
    const e = section.extmaps[i]!;
    if (!headerExtensions.has(e.id)) headerExtensions.set(e.id, e.uri);
  }

  const repairOf = new Map<number, number>();
  const repairs = new Set<number>();
  for (let i = 0; i < section.ssrcGroups.length; i++) {
    const g = section.ssrcGroups[i]!;
    if (g.semantics === 'FID' && g.ssrcs.length === 2) {
      repairOf.set(g.ssrcs[0]!, g.ssrcs[1]!);
      repairs.add(g.ssrcs[1]!);
    }
  }
  const senders: AnnouncedSender[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < section.ssrcs.length; i++) {
    const s = section.ssrcs[i]!;
    if (seen.has(s.ssrc) || repairs.has(s.ssrc)) continue;
    seen.add(s.ssrc);
    const sender: AnnouncedSender = { ssrc: s.ssrc };
    const rtx = repairOf.get(s.ssrc);
    if (rtx !== undefined) sender.rtxSsrc = rtx;
    const cname = section.ssrcs.find((x) => x.ssrc === s.ssrc && x.attribute === 'cname')?.value;
    if (cname !== undefined) sender.cname = cname;
    senders.push(sender);
  }
  const msids = section.msids.length > 0 ? mapList(section.msids, copyMsid) : legacyMsids(section);
  const params: RtpSectionParameters = {
    mid: section.mid,
    kind: section.kind === 'video' ? 'video' : 'audio',
    direction: section.direction ?? sessionDirection ?? 'sendrecv',
    codecs: filterList(section.codecs, isMediaCodec),
    rtxPayloadTypes,
    headerExtensions,
    senders,
    msids,
    rids: section.rids,
    rtcpReducedSize: section.rtcpRsize,
    receiverRtt: section.rtcpXrReceiverRtt?.mode === 'all',
  };
  if (section.simulcast !== undefined) params.simulcast = section.simulcast;
  return params;
}

function copyMsid(m: SdpMsid): SdpMsid {
  return { ...m };
}

function isMediaCodec(c: SdpCodec): boolean {
  return !isRtxCodec(c);
}

/** The msid of an older peer's `a=ssrc:<ssrc> msid:<stream> [<track>]`, when the section has no `a=msid`. */
function legacyMsids(section: SdpMediaSection): SdpMsid[] {
  const legacy = section.ssrcs.find((s) => s.attribute === 'msid' && s.value !== undefined)?.value?.split(' ');
  if (legacy === undefined || legacy[0] === undefined) return [];
  return [legacy[1] === undefined ? { stream: legacy[0] } : { stream: legacy[0], track: legacy[1] }];
}

/**
 * The capabilities that, passed to `createOffer` for the same transceiver, offer exactly the
 * codecs, payload types, RTX and extmap ids this m-section negotiated: what a subsequent offer on a
 * live connection must keep (RFC 8829 §5.2.2; RFC 8843 §9.1 forbids remapping in a BUNDLE group).
 */
export function negotiatedCapabilities(section: SdpMediaSection): { codecs: CodecCapability[]; headerExtensions: HeaderExtensionCapability[] } {
  const kind: RtpMediaKind = section.kind === 'video' ? 'video' : 'audio';
  const { rtxPayloadTypes } = describeRtpSection(section);
  const codecs = section.codecs
    .filter((c) => !isRtxCodec(c))
    .map((c) => {
      const cap: CodecCapability = {
        kind,
        name: c.name,
        clockRate: c.clockRate,
        parameters: { ...c.parameters },
        rtcpFeedback: c.rtcpFeedback.map((f) => ({ ...f })),
        rtx: rtxPayloadTypes.has(c.payloadType),
        preferredPayloadType: c.payloadType,
      };
      if (c.channels !== undefined) cap.channels = c.channels;
      const rtx = rtxPayloadTypes.get(c.payloadType);
      if (rtx !== undefined) cap.preferredRtxPayloadType = rtx;
      return cap;
    });
  const headerExtensions = section.extmaps.map((e) => ({ kind, uri: e.uri, preferredId: e.id }));
  return { codecs, headerExtensions };
}
