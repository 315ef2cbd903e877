// W3C RTCRtpCodec / RTCRtpCapabilities and the codec-preference rules of
// RTCRtpTransceiver.setCodecPreferences (webrtc-pc §5.4): which of our codec capabilities a list of
// preferences selects, in which order, with or without RTX (RFC 4588). See docs/peer.md.
import type { CodecCapability, HeaderExtensionCapability } from '../sdp/capabilities.js';
import type { MediaKind } from './media-stream-track.js';
import { PeerError } from './session-description.js';

/** W3C RTCRtpCodec (RTCRtpCodecCapability): one codec as `getCapabilities()` lists it. */
export interface RTCRtpCodec {
  /** `<kind>/<encoding name>`, e.g. `video/VP8` (compared case-insensitively). */
  mimeType: string;
  clockRate: number;
  /** Audio channels; absent matches any. */
  channels?: number;
  /** The fmtp parameters, `a=b;c=d`; absent matches any (every H264 profile, for example). */
  sdpFmtpLine?: string;
}

/** W3C RTCRtpCapabilities. */
export interface RTCRtpCapabilities {
  codecs: RTCRtpCodec[];
  headerExtensions: { uri: string }[];
}

const RTX = 'rtx';
/** Codecs that repair or complement another; a preference list of only these is refused. */
const NOT_MEDIA = new Set(['rtx', 'red', 'ulpfec', 'flexfec-03', 'cn', 'telephone-event']);

function fmtpLine(parameters: Record<string, string>): string {
  return Object.entries(parameters).map(([k, v]) => `${k}=${v}`).join(';');
}

function parseFmtp(line: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of line.split(';')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq < 0) out.set(p.toLowerCase(), '');
    else out.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim());
  }
  return out;
}

/** The W3C form of our codec capabilities for `kind`: each codec, then one `rtx` entry when any codec has RTX. */
export function rtpCapabilities(kind: MediaKind, codecs: readonly CodecCapability[], extensions: readonly HeaderExtensionCapability[]): RTCRtpCapabilities {
  const list: RTCRtpCodec[] = [];
  for (const c of codecs) {
    if (c.kind !== kind) continue;
    const codec: RTCRtpCodec = { mimeType: `${kind}/${c.name}`, clockRate: c.clockRate };
    if (c.channels !== undefined) codec.channels = c.channels;
    const line = fmtpLine(c.parameters);
    if (line !== '') codec.sdpFmtpLine = line;
    list.push(codec);
  }
  const rtxRates = [...new Set(codecs.filter((c) => c.kind === kind && c.rtx).map((c) => c.clockRate))];
  for (const clockRate of rtxRates) list.push({ mimeType: `${kind}/${RTX}`, clockRate });
  return { codecs: list, headerExtensions: extensions.filter((e) => e.kind === kind).map((e) => ({ uri: e.uri })) };
}

function matches(pref: RTCRtpCodec, kind: MediaKind, cap: CodecCapability): boolean {
  if (pref.mimeType.toLowerCase() !== `${kind}/${cap.name}`.toLowerCase()) return false;
  if (pref.clockRate !== cap.clockRate) return false;
  if (pref.channels !== undefined && pref.channels !== (cap.channels ?? 1)) return false;
  if (pref.sdpFmtpLine === undefined) return true;
  const want = parseFmtp(pref.sdpFmtpLine);
  const have = parseFmtp(fmtpLine(cap.parameters));
  if (want.size !== have.size) return false;
  for (const [k, v] of want) if (have.get(k)?.toLowerCase() !== v.toLowerCase()) return false;
  return true;
}

function invalid(message: string): PeerError {
  return new PeerError('InvalidModificationError', 'ERR_PEER_CODEC_PREFERENCES', message);
}

/**
 * The capabilities `preferences` select, in preference order (webrtc-pc §5.4
 * setCodecPreferences), or undefined for an empty list (back to the defaults). Duplicates are
 * ignored. RTX stays on for the selected codecs only when the list has an `rtx` entry of their
 * clock rate. Throws InvalidModificationError (ERR_PEER_CODEC_PREFERENCES) for a codec we do not
 * have for this kind, or a list without any media codec.
 */
export function selectCodecPreferences(kind: MediaKind, preferences: readonly RTCRtpCodec[], available: readonly CodecCapability[]): CodecCapability[] | undefined {
  if (!Array.isArray(preferences)) throw new PeerError('TypeError', 'ERR_PEER_CODEC_PREFERENCES', 'setCodecPreferences takes an array of RTCRtpCodec');
  if (preferences.length === 0) return undefined;
  const ofKind = available.filter((c) => c.kind === kind);
  const rtxRates = new Set<number>();
  const selected: CodecCapability[] = [];
  for (const pref of preferences) {
    if (typeof pref?.mimeType !== 'string' || typeof pref.clockRate !== 'number') throw invalid('each codec needs a mimeType and a clockRate');
    const name = pref.mimeType.slice(pref.mimeType.indexOf('/') + 1).toLowerCase();
    if (pref.mimeType.toLowerCase() === `${kind}/${RTX}`) {
      if (!ofKind.some((c) => c.rtx && c.clockRate === pref.clockRate)) throw invalid(`${pref.mimeType}/${pref.clockRate} is not a ${kind} capability`);
      rtxRates.add(pref.clockRate);
      continue;
    }
    const found = ofKind.filter((c) => matches(pref, kind, c));
    if (found.length === 0) {
      const fmtp = pref.sdpFmtpLine !== undefined ? ` ${pref.sdpFmtpLine}` : '';
      throw invalid(`${pref.mimeType}/${pref.clockRate}${fmtp} is not a ${kind} codec this connection supports${NOT_MEDIA.has(name) ? '' : ' (see RTCRtpReceiver.getCapabilities)'}`);
    }
    for (const c of found) if (!selected.includes(c)) selected.push(c);
  }
  if (selected.length === 0) throw invalid('the preferences name no media codec (only RTX)');
  return selected.map((c) => ({ ...c, parameters: { ...c.parameters }, rtcpFeedback: c.rtcpFeedback.map((f) => ({ ...f })), rtx: c.rtx && rtxRates.has(c.clockRate) }));
}

/**
 * The codecs of a subsequent offer under preferences: each preferred codec with the payload type
 * it was negotiated with, when it was (RFC 8829 §5.2.2 keeps payload types stable).
 */
export function preferredWithNegotiated(preferred: readonly CodecCapability[], negotiated: readonly CodecCapability[]): CodecCapability[] {
  return preferred.map((p) => {
    const n = negotiated.find((c) => c.name.toLowerCase() === p.name.toLowerCase() && c.clockRate === p.clockRate && fmtpLine(c.parameters).toLowerCase() === fmtpLine(p.parameters).toLowerCase());
    if (!n) return p;
    const out: CodecCapability = { ...p };
    if (n.preferredPayloadType !== undefined) out.preferredPayloadType = n.preferredPayloadType;
    if (n.preferredRtxPayloadType !== undefined) out.preferredRtxPayloadType = n.preferredRtxPayloadType;
    return out;
  });
}
