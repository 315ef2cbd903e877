// ICE candidates: types, priorities and foundations (RFC 8445 §5.1.2, §5.1.1.3) and the SDP
// `candidate` attribute grammar (RFC 8839 §5.1), including trickle's end-of-candidates (RFC 8840).
import { PwtError } from '../common/errors.js';
import { canonicalIp, ipFamily, ipToBytes, type TransportAddress } from './transport-address.js';

/** Candidate types (RFC 8445 §5.1.1). */
export type IceCandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

/** An ICE candidate for component 1 (WebRTC multiplexes RTP and RTCP, RFC 8843). */
export interface IceCandidate {
  readonly foundation: string;
  readonly component: number;
  readonly protocol: 'udp' | 'tcp';
  readonly priority: number;
  /** IP literal, or an mDNS name (`<uuid>.local`) for remote candidates that hide their address. */
  readonly address: string;
  readonly port: number;
  readonly type: IceCandidateType;
  readonly relatedAddress?: string;
  readonly relatedPort?: number;
  /** TCP candidate type (RFC 6544), kept so that such lines round-trip. */
  readonly tcpType?: string;
  /** The ufrag extension attribute some browsers add (`ufrag <x>`). */
  readonly ufrag?: string;
}

/** Type preferences recommended by RFC 8445 §5.1.2.2. */
export const TYPE_PREFERENCE: Readonly<Record<IceCandidateType, number>> = { host: 126, prflx: 110, srflx: 100, relay: 0 };

/** Candidate priority (RFC 8445 §5.1.2.1): 2^24 type pref + 2^8 local pref + (256 - component). */
export function candidatePriority(type: IceCandidateType, localPreference: number, component = 1): number {
  return TYPE_PREFERENCE[type] * 0x1000000 + (localPreference & 0xffff) * 0x100 + (256 - component);
}

/** The candidate's transport address. */
export function candidateAddress(c: IceCandidate): TransportAddress {
  return { address: c.address, port: c.port };
}

/** True when the candidate names an mDNS host (RFC 8445 does not cover it; Chromium sends `<uuid>.local`). */
export function isMdnsCandidate(c: IceCandidate): boolean {
  return c.address.endsWith('.local'); // candidateFromFields lowercased the name
}

/** Thrown by {@link parseCandidate} for a line that is not a valid candidate attribute. */
export class IceCandidateSyntaxError extends PwtError {
  constructor(message: string) {
    super('SyntaxError', 'ERR_ICE_CANDIDATE_SYNTAX', message);
  }
}

/**
 * Parses `candidate:...` (with or without the `a=` prefix) per RFC 8839 §5.1. Unknown extension
 * attributes are skipped. Throws {@link IceCandidateSyntaxError} for malformed lines.
 */
export function parseCandidate(line: string): IceCandidate {
  let text = line.trim();
  if (text.startsWith('a=')) text = text.slice(2);
  if (!text.startsWith('candidate:')) throw new IceCandidateSyntaxError(`not a candidate attribute: ${line.slice(0, 80)}`);
  const f = text.slice('candidate:'.length).split(/\s+/);
  if (f.length < 8 || f[6]!.toLowerCase() !== 'typ') throw new IceCandidateSyntaxError(`malformed candidate: ${line.slice(0, 80)}`);
  const [foundation, comp, proto, prio, address, portText, , typ] = f as [string, string, string, string, string, string, string, string];
  const fields: CandidateFields = { foundation, component: Number(comp), protocol: proto, priority: Number(prio), address, port: Number(portText), type: typ };
  for (let i = 8; i + 1 < f.length; i += 2) {
    const key = f[i]!.toLowerCase();
    const value = f[i + 1]!;
    if (key === 'raddr') fields.relatedAddress = value;
    else if (key === 'rport') fields.relatedPort = Number(value);
    else if (key === 'tcptype') fields.tcpType = value;
    else if (key === 'ufrag') fields.ufrag = value;
  }
  return candidateFromFields(fields);
}

/**
 * A candidate's fields as an SDP parser split them (RFC 8839 §5.1), not yet checked against what
 * ICE accepts: the input of {@link candidateFromFields}.
 */
export interface CandidateFields {
  foundation: string;
  component: number;
  /** Any case; `udp` or `tcp` are accepted. */
  protocol: string;
  priority: number;
  address: string;
  port: number;
  type: string;
  relatedAddress?: string;
  /** Dropped (not an error) when it is not 0..65535, as in a parsed line. */
  relatedPort?: number;
  tcpType?: string;
  ufrag?: string;
}

/**
 * The candidate that {@link parseCandidate} makes of a line with these fields, checked by the same
 * rules, without the line: for a candidate another parser already split (lib/peer hands the
 * remote description's candidates to the agent this way, docs/peer.md "Setup cost").
 * Throws {@link IceCandidateSyntaxError} where parseCandidate would.
 */
export function candidateFromFields(f: CandidateFields): IceCandidate {
  const { foundation, component, priority, port } = f;
  // ABNF literals are case-insensitive (RFC 5234 §2.3), and so are DNS names: `HOST`, `UDP` and
  // `<uuid>.LOCAL` are the candidates `host`, `udp` and `<uuid>.local`.
  const protocol = f.protocol.toLowerCase();
  const typ = f.type.toLowerCase();
  const family = ipFamily(f.address);
  const address = family === 0 ? f.address.toLowerCase() : f.address;
  if (!/^[A-Za-z0-9+/]{1,32}$/.test(foundation)) throw new IceCandidateSyntaxError('bad foundation');
  if (!Number.isInteger(component) || component < 1 || component > 256) throw new IceCandidateSyntaxError('bad component');
  if (!Number.isInteger(priority) || priority < 1 || priority > 0xffffffff) throw new IceCandidateSyntaxError('bad priority');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new IceCandidateSyntaxError('bad port');
  if (protocol !== 'udp' && protocol !== 'tcp') throw new IceCandidateSyntaxError(`unsupported transport ${f.protocol}`);
  if (typ !== 'host' && typ !== 'srflx' && typ !== 'prflx' && typ !== 'relay') throw new IceCandidateSyntaxError(`bad type ${typ}`);
  if (family === 0 && !/^[a-z0-9-]+\.local$/.test(address)) throw new IceCandidateSyntaxError('bad address');
  // An IPv6 zone id (`fe80::1%eth0`, RFC 4007 §11) names an interface of the sender's node: not an
  // address of RFC 8839's grammar and of no use here (canonicalIp would drop it silently).
  if (address.includes('%')) throw new IceCandidateSyntaxError('address with a zone id');
  const canonical = canonicalIp(address);
  // Checks sent there would go to no peer or to many: a remote candidate must not point our
  // connectivity checks at a multicast group, the broadcast address or port 0.
  if (port === 0 || (family !== 0 && !isUnicastAddress(canonical, family))) {
    throw new IceCandidateSyntaxError(`not a unicast transport address: ${canonical} port ${port}`);
  }
  const c: { -readonly [K in keyof IceCandidate]: IceCandidate[K] } = {
    foundation,
    component,
    protocol,
    priority,
    address: canonical,
    port,
    type: typ,
  };
  if (f.relatedAddress !== undefined) c.relatedAddress = canonicalIp(f.relatedAddress);
  const rp = f.relatedPort;
  if (rp !== undefined && Number.isInteger(rp) && rp >= 0 && rp <= 65535) c.relatedPort = rp;
  if (f.tcpType !== undefined) c.tcpType = f.tcpType.toLowerCase();
  if (f.ufrag !== undefined) c.ufrag = f.ufrag;
  return c;
}

/**
 * False for an address no datagram of a single peer comes from: unspecified (0.0.0.0/8, `::`),
 * IPv4 limited broadcast and multicast (224.0.0.0/4, ff00::/8, also IPv4-mapped).
 */
function isUnicastAddress(canonical: string, family: 4 | 6): boolean {
  if (family === 4) return isUnicastIpv4(Number(canonical.slice(0, canonical.indexOf('.'))), canonical === '255.255.255.255');
  const b = ipToBytes(canonical);
  if (b === undefined) return true;
  if (b[0] === 0xff || b.every((x) => x === 0)) return false;
  // ::ffff:a.b.c.d names the IPv4 address a.b.c.d (RFC 4291 §2.5.5.2).
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return !mapped || isUnicastIpv4(b[12]!, b[12] === 255 && b[13] === 255 && b[14] === 255 && b[15] === 255);
}

/** An IPv4 address by its first octet: not 0.0.0.0/8, not multicast (224.0.0.0/4), not the broadcast. */
function isUnicastIpv4(firstOctet: number, broadcast: boolean): boolean {
  return firstOctet !== 0 && (firstOctet < 224 || firstOctet > 239) && !broadcast;
}

/** Formats a candidate as the value of an SDP `a=candidate` attribute (`candidate:...`). */
export function formatCandidate(c: IceCandidate): string {
  let s = `candidate:${c.foundation} ${c.component} ${c.protocol} ${c.priority} ${c.address} ${c.port} typ ${c.type}`;
  if (c.relatedAddress !== undefined && c.relatedPort !== undefined) s += ` raddr ${c.relatedAddress} rport ${c.relatedPort}`;
  if (c.tcpType) s += ` tcptype ${c.tcpType}`;
  if (c.ufrag) s += ` ufrag ${c.ufrag}`;
  return s;
}
