// W3C webrtc-stats RTCTransportStats: the `transport` entry of the BUNDLE transport, with what the
// native DTLS engine negotiated (RFC 6347 version, IANA cipher suite, RFC 5764 SRTP profile) and
// the certificates of both ends. See docs/peer.md (getStats).
import type { DtlsCertificate } from '../dtls/dtls-certificate.js';
import type { DtlsTransportState } from '../dtls/dtls-transport.js';
import type { SrtpProfileName } from '../dtls/srtp-profile.js';
import type { IceConnectionState } from '../ice/ice-agent.js';
import type { PeerTransport } from '../transport/peer-transport.js';
import { certificateFieldsFromDer, certificateStats, localCertificateFields } from './stats-certificate.js';
import type { RTCStats } from './stats.js';

/** Traffic of the transport: every datagram of its sockets (or of the ICE driver). */
export interface TransportTraffic {
  /** Undefined when the datagrams pass through the ICE driver, which counts packets only. */
  readonly bytesSent: number | undefined;
  readonly bytesReceived: number | undefined;
  readonly packetsSent: number;
  readonly packetsReceived: number;
}

/**
 * The W3C `srtpCipher` of a profile: the "Profile" column of the IANA DTLS-SRTP protection
 * profile registry (RFC 5764 section 4.1.2, RFC 7714 section 14.2), e.g. `SRTP_AEAD_AES_128_GCM`.
 */
export function srtpCipherName(profile: SrtpProfileName): string {
  return `SRTP_${profile}`;
}

/**
 * Sums the traffic counters of the transport's own sockets; on a shared port (udpMux) or a relay,
 * where it has none, takes the ICE driver's data datagram counts (it counts no bytes).
 */
export function transportTraffic(t: PeerTransport): TransportTraffic {
  if (t.localSockets.length === 0) {
    const driver = t.iceDriverStats;
    return { bytesSent: undefined, bytesReceived: undefined, packetsSent: driver.dataSent, packetsReceived: driver.dataReceived };
  }
  let bytesSent = 0;
  let bytesReceived = 0;
  let packetsSent = 0;
  let packetsReceived = 0;
  for (const { socket } of t.localSockets) {
    if (socket.closed) continue;
    const st = socket.stats;
    bytesSent += st.bytesSent;
    bytesReceived += st.bytesReceived;
    packetsSent += st.packetsSent;
    packetsReceived += st.packetsReceived;
  }
  return { bytesSent, bytesReceived, packetsSent, packetsReceived };
}

/**
 * The smallest receive buffer the kernel granted the transport's own sockets, and how many it
 * granted less than asked; undefined on a shared port (udpMux), which has no own sockets.
 */
export function receiveBuffers(t: PeerTransport): { granted: number; capped: number } | undefined {
  let granted: number | undefined;
  let capped = 0;
  for (const { socket } of t.localSockets) {
    const b = socket.receiveBuffer;
    if (!b) continue;
    granted = granted === undefined ? b.granted : Math.min(granted, b.granted);
    if (b.capped) capped++;
  }
  return granted === undefined ? undefined : { granted, capped };
}

/** What the transport entry is built from. */
export interface TransportStatsInput {
  readonly id: string;
  readonly timestamp: number;
  readonly transport: PeerTransport;
  readonly traffic: TransportTraffic;
  readonly localCertificate: DtlsCertificate;
  readonly dtlsState: DtlsTransportState;
  readonly iceState: IceConnectionState;
  readonly selectedCandidatePairId: string | undefined;
}

/**
 * The `transport` entry plus the `certificate` entries it refers to. Negotiated values come from
 * the engine and are present only while DTLS is connected; nothing is filled in by assumption.
 */
export function transportStats(input: TransportStatsInput): RTCStats[] {
  const { transport: t, timestamp, traffic } = input;
  const dtls = t.dtls;
  const local = certificateStats(localCertificateFields(input.localCertificate), timestamp);
  const out: RTCStats[] = [local];
  const remoteDer = dtls?.getRemoteCertificates()[0];
  let remoteId: string | undefined;
  if (remoteDer) {
    const remote = certificateStats(certificateFieldsFromDer(remoteDer), timestamp);
    remoteId = remote.id;
    out.push(remote);
  }
  const srtpProfile = dtls?.srtpProfile;
  const buffers = receiveBuffers(t);
  const entry: Record<string, unknown> = {
    id: input.id, type: 'transport', timestamp,
    packetsSent: traffic.packetsSent,
    packetsReceived: traffic.packetsReceived,
    ...(traffic.bytesSent !== undefined ? { bytesSent: traffic.bytesSent, bytesReceived: traffic.bytesReceived } : {}),
    dtlsState: input.dtlsState,
    iceState: input.iceState,
    iceRole: t.ice.role,
    iceLocalUsernameFragment: t.localCredentials.ufrag,
    dtlsRole: dtls ? dtls.role : 'unknown',
    localCertificateId: local.id,
    ...(remoteId !== undefined ? { remoteCertificateId: remoteId } : {}),
    ...(input.selectedCandidatePairId !== undefined ? { selectedCandidatePairId: input.selectedCandidatePairId } : {}),
    ...(dtls?.tlsVersion !== undefined ? { tlsVersion: dtls.tlsVersion } : {}),
    ...(dtls?.cipherSuiteStandardName !== undefined ? { dtlsCipher: dtls.cipherSuiteStandardName } : {}),
    ...(srtpProfile !== undefined ? { srtpCipher: srtpCipherName(srtpProfile) } : {}),
    ...(dtls ? { pwtDtlsHandshakeThread: dtls.handshakeThread } : {}),
    ...(buffers !== undefined ? { pwtReceiveBufferBytes: buffers.granted, pwtReceiveBuffersCapped: buffers.capped } : {}),
  };
  out.push(entry as RTCStats);
  return out;
}
