// Checks an RTCConfiguration as the RTCPeerConnection constructor receives it (webrtc-pc §4.4.1.1
// steps 2-4, §4.2.1 RTCConfiguration, WebIDL dictionary and enum conversion): a wrong type or an
// unknown enum value is a TypeError, a bad ICE server URL a SyntaxError, a TURN server without
// username or credential an InvalidAccessError. Each error has a stable `code`.
import { DtlsCertificate } from '../dtls/dtls-certificate.js';
import { DEFAULT_SRTP_PROFILES } from '../dtls/srtp-profile.js';
import { ipFamily } from '../ice/transport-address.js';
import { parseIceServerUrl } from '../transport/ice-transport.js';
import { PeerError } from './session-description.js';
import type { RTCConfiguration } from './peer-connection.js';

const ENUMS: Record<string, readonly string[]> = {
  iceTransportPolicy: ['all', 'relay'],
  bundlePolicy: ['max-bundle', 'balanced', 'max-compat'],
  answerDtlsRole: ['client', 'server'],
  rtcpMuxPolicy: ['require'],
};
/** The keys of ENUMS, listed once (no entry arrays per check; docs/peer.md "Setup cost"). */
const ENUM_KEYS: readonly string[] = Object.keys(ENUMS);
const BOOLEANS = ['iceLite', 'iceTcpActive'] as const;
const ARRAYS = ['iceServers', 'certificates', 'hostAddresses', 'codecs', 'headerExtensions', 'srtpProfiles', 'rtpPolicies'] as const;

function typeError(code: string, message: string): PeerError {
  return new PeerError('TypeError', code, message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/**
 * `configuration` checked and copied: `undefined` and `null` are `{}` (WebIDL: an optional
 * dictionary), anything else must be an object whose known members have the documented types.
 * Unknown members are ignored, as WebIDL does.
 */
export function checkConfiguration(configuration: unknown): RTCConfiguration {
  if (configuration === undefined || configuration === null) return {};
  if (!isObject(configuration) || Array.isArray(configuration)) {
    throw typeError('ERR_PEER_CONFIGURATION', `the configuration must be an object, got ${describe(configuration)}`);
  }
  const c = configuration as RTCConfiguration & Record<string, unknown>;
  for (const key of ARRAYS) {
    if (c[key] !== undefined && !Array.isArray(c[key])) throw typeError('ERR_PEER_CONFIGURATION', `${key} must be an array, got ${describe(c[key])}`);
  }
  for (let i = 0; i < ENUM_KEYS.length; i++) {
    const key = ENUM_KEYS[i]!;
    const values = ENUMS[key]!;
    if (c[key] !== undefined && !values.includes(c[key] as string)) {
      throw typeError('ERR_PEER_CONFIGURATION', `${key} must be one of ${values.map((v) => `'${v}'`).join(', ')}, got ${describe(c[key])}`);
    }
  }
  for (const key of BOOLEANS) {
    if (c[key] !== undefined && typeof c[key] !== 'boolean') throw typeError('ERR_PEER_CONFIGURATION', `${key} must be a boolean, got ${describe(c[key])}`);
  }
  // Absent lists are skipped, not replaced by a new empty array each (docs/peer.md "Setup cost").
  if (c.iceServers !== undefined) checkIceServers(c.iceServers);
  if (c.hostAddresses !== undefined) {
    for (const a of c.hostAddresses) {
      if (typeof a !== 'string' || ipFamily(a) === 0) throw typeError('ERR_PEER_HOST_ADDRESS', `hostAddresses: '${String(a)}' is not an IP address`);
    }
  }
  if (c.certificates !== undefined) {
    for (const cert of c.certificates) {
      if (!(cert instanceof DtlsCertificate)) throw typeError('ERR_PEER_CONFIGURATION', 'certificates must hold DtlsCertificate objects (DtlsCertificate.generate())');
    }
  }
  if (c.srtpProfiles !== undefined) {
    for (const p of c.srtpProfiles) {
      if (!DEFAULT_SRTP_PROFILES.includes(p)) throw typeError('ERR_PEER_CONFIGURATION', `srtpProfiles: unknown profile ${describe(p)} (one of ${DEFAULT_SRTP_PROFILES.join(', ')})`);
    }
  }
  if (c.rtpPolicies !== undefined) {
    for (const f of c.rtpPolicies) {
      if (!isObject(f) || typeof f.name !== 'string' || typeof f.create !== 'function' || (f.scope !== 'transceiver' && f.scope !== 'transport')) {
        throw typeError('ERR_PEER_CONFIGURATION', 'rtpPolicies must hold policy factories ({ name, scope: \'transceiver\' | \'transport\', create(kind) }; see defaultPolicyFactories())');
      }
    }
  }
  if (c.codecs !== undefined) checkObjects('codecs', c.codecs);
  if (c.headerExtensions !== undefined) checkObjects('headerExtensions', c.headerExtensions);
  if (c.udpMux !== undefined && !(isObject(c.udpMux) && typeof (c.udpMux as { createTransport?: unknown }).createTransport === 'function')) {
    throw typeError('ERR_PEER_CONFIGURATION', 'udpMux must be a UdpMux (await UdpMux.bind(...))');
  }
  if (c.tcpMux !== undefined && !(isObject(c.tcpMux) && typeof (c.tcpMux as { attach?: unknown }).attach === 'function')) {
    throw typeError('ERR_PEER_CONFIGURATION', 'tcpMux must be a TcpMux (await TcpMux.listen(...))');
  }
  if (c.portRange !== undefined) {
    const r = c.portRange as { min?: unknown; max?: unknown };
    if (!isObject(r) || !isPort(r.min) || !isPort(r.max) || (r.min as number) > (r.max as number)) {
      throw new PeerError('RangeError', 'ERR_PEER_PORT_RANGE', 'portRange must be { min, max } with integers 1..65535 and min <= max');
    }
  }
  // WebIDL `[EnforceRange] octet` (webrtc-pc §4.2.1, WebIDL §3.2.4.10 ConvertToInt): ToNumber first
  // ('5' -> 5, null -> 0, true -> 1, an object's valueOf), then a finite number, truncated, in 0..255.
  let pool: number | undefined;
  if (c.iceCandidatePoolSize !== undefined) {
    const v = c.iceCandidatePoolSize as unknown;
    // ToNumber throws a TypeError for a Symbol and a BigInt (Number() would convert the BigInt).
    if (typeof v === 'symbol' || typeof v === 'bigint') {
      throw typeError('ERR_PEER_CONFIGURATION', `iceCandidatePoolSize must be a number in 0..255, got a ${typeof v}`);
    }
    const n = Number(v);
    if (!Number.isFinite(n) || Math.trunc(n) < 0 || Math.trunc(n) > 255) {
      throw typeError('ERR_PEER_CONFIGURATION', `iceCandidatePoolSize must be a number in 0..255, got ${describe(v)}`);
    }
    pool = Math.trunc(n) + 0; // -0.5 truncates to -0: the octet is 0
  }
  if (c.maxMessageSize !== undefined && !(Number.isInteger(c.maxMessageSize) && c.maxMessageSize >= 0)) {
    throw new PeerError('RangeError', 'ERR_PEER_CONFIGURATION', `maxMessageSize must be an integer >= 0, got ${describe(c.maxMessageSize)}`);
  }
  return pool === undefined ? { ...c } : { ...c, iceCandidatePoolSize: pool };
}

function checkObjects(key: string, list: readonly unknown[]): void {
  for (const item of list) {
    if (!isObject(item)) throw typeError('ERR_PEER_CONFIGURATION', `${key} must hold objects (see RTCRtpSender.getCapabilities())`);
  }
}

/** webrtc-pc §4.4.1.1 "validate the ICE server list" (the URL grammar of RFC 7064/7065). */
function checkIceServers(servers: readonly unknown[]): void {
  for (const server of servers) checkIceServer(server);
}

/**
 * webrtc-pc §4.4.1.1 "validate an ICE server" and "validate an ICE server URL" for one entry:
 * not an object or `urls` neither a string nor a list of strings → TypeError (WebIDL conversion of
 * the required `urls` member); an empty `urls` list → SyntaxError; a URL that does not parse as
 * `stun:`/`stuns:`/`turn:`/`turns:` host[:port], or a `stun:`/`stuns:` URL with a query →
 * SyntaxError; a `turn:`/`turns:` URL without `username` and `credential` → InvalidAccessError.
 * Throws the first problem as a {@link PeerError}. Also used by lib/signaling/whip-client.ts to
 * leave out Link-header servers the constructor would refuse.
 * @internal
 */
export function checkIceServer(server: unknown): void {
  if (!isObject(server)) throw typeError('ERR_PEER_ICE_SERVER', `iceServers must hold { urls, username?, credential? } objects, got ${describe(server)}`);
  const urls = typeof server.urls === 'string' ? [server.urls] : server.urls;
  if (!Array.isArray(urls) || urls.some((u) => typeof u !== 'string')) {
    throw typeError('ERR_PEER_ICE_SERVER', 'iceServers: urls must be a URL string or an array of them');
  }
  // §4.4.1.1 step 2: "If server.urls is empty, throw a SyntaxError".
  if (urls.length === 0) throw new PeerError('SyntaxError', 'ERR_PEER_ICE_SERVER_URLS_EMPTY', 'iceServers: urls is an empty list');
  for (const url of urls as string[]) {
    let scheme: string;
    try {
      scheme = parseIceServerUrl(url).scheme;
    } catch (err) {
      throw new PeerError('SyntaxError', 'ERR_PEER_ICE_SERVER_URL', `iceServers: bad URL '${url}'`, { cause: err });
    }
    // "If parsedURL's scheme is stun or stuns, and parsedURL's query is non-null, throw a SyntaxError."
    if ((scheme === 'stun' || scheme === 'stuns') && url.includes('?')) {
      throw new PeerError('SyntaxError', 'ERR_PEER_ICE_SERVER_URL', `iceServers: a ${scheme}: URL takes no query, got '${url}'`);
    }
    if ((scheme === 'turn' || scheme === 'turns') && (typeof server.username !== 'string' || typeof server.credential !== 'string')) {
      throw new PeerError('InvalidAccessError', 'ERR_PEER_ICE_SERVER_CREDENTIALS', `iceServers: '${url}' needs a username and a credential`);
    }
  }
}

function isPort(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
