// Typed view of the addon's UdpSocket class (binding/udp_socket_binding.cpp).
import { nativeExport } from './addon.js';

/** Pool arrays shared with native code; native writes received batches into the recv arrays. */
export interface NativeUdpPools {
  recvBuffer: Buffer;
  slotSize: number;
  recvLengths: Uint32Array;
  recvAddresses: Uint8Array;
  recvPorts: Uint16Array;
  recvFamilies: Uint8Array;
  /** Per slot: 0 not routed, 1 SRTP-unprotected in place, 2 + SrtpStatus when SRTP refused it. */
  recvStatus: Uint8Array;
  /** Per slot: the TURN channel route whose ChannelData header native code stripped, else 0. */
  recvRelays: Uint16Array;
  sendBuffer: Buffer;
  sendOffsets: Uint32Array;
  sendLengths: Uint32Array;
  sendAddresses: Uint8Array;
  /** Per send entry: 0 plain, else the SRTP route id that protects it at flush. */
  sendRoutes: Uint16Array;
  counters: Float64Array;
  onBatch: (count: number) => void;
}

/** The send half of the pools, replaceable while the socket lives (it grows on demand). */
export type NativeUdpSendPool = Pick<NativeUdpPools, 'sendBuffer' | 'sendOffsets' | 'sendLengths' | 'sendAddresses' | 'sendRoutes'>;

/** Native socket handle; every method is thin and validated by lib/transport/source/udp-socket.ts. */
export interface NativeUdpSocket {
  /**
   * Binds, turns GSO on when asked and the kernel has it, and returns the bound address: one call
   * per socket (docs/peer.md "Setup cost"). `[status, errno]` when it failed.
   */
  bind(family: 4 | 6, address: string, port: number, reusePort: boolean, ipv6Only: boolean,
    recvBufferSize: number, sendBufferSize: number, gso: boolean):
    [status: number, errno: number, boundAddress?: string, boundPort?: number, boundFamily?: 4 | 6];
  /** SO_RCVBUF and SO_SNDBUF as the kernel reports them (Linux: twice the granted bytes), or null. */
  bufferSizes(): [receive: number, send: number] | null;
  resolve(family: 4 | 6, ip: string, port: number, out: Uint8Array, offset: number): number;
  flush(count: number): number;
  setGso(enabled: boolean): boolean;
  /** UDP_GRO receive (coalesced bursts split into slots); returns whether it is on (false: refused). */
  setGro(enabled: boolean): boolean;
  ref(): void;
  unref(): void;
  pendingCount(): number;
  /** A route for a remote, or (channel 0x4000..0x4FFF) for a TURN channel of the server at the address. */
  addSrtpRoute(addressRecord: Uint8Array, srtpSession: object, channel?: number): number;
  setSendPool(pool: NativeUdpSendPool): void;
  removeSrtpRoute(id: number): void;
  /** Runs a native ForwardEngine inside each receive batch (null detaches); false when not an engine. */
  setForwardEngine(engine: object | null): boolean;
  /**
   * The attached engine sends an SR + SDES CNAME on each consumer leg ids[0, count), with the leg's
   * wall clock unixMs[i], in one flush; sent[i] becomes 1 for each report that left. Returns how many.
   */
  forwardSenderReports(ids: Uint32Array, unixMs: Float64Array, count: number, sent: Uint8Array): number;
  /**
   * Answers every generic NACK of one compound RTCP packet (`rtcp[offset, offset + length)`) that
   * engine transport `transport` received, for that transport's consumers; given the three miss
   * arrays (same length), writes the numbers no cache held (consumer id, producer-space number,
   * spatial layer) and returns their count, else 0.
   */
  forwardRetransmitCompound(transport: number, rtcp: Uint8Array, offset: number, length: number,
    missConsumers?: Uint32Array, missSeqs?: Uint16Array, missLayers?: Uint8Array): number;
  /** Makes this a plain/pipe transport's socket: batches pass the filter first (null: off). */
  setPlainFilter(filter: object | null): boolean;
  /** Joins the shared-port hand-off (lib/native/reuseport-handoff.ts); false when it cannot. */
  setHandoff(options: NativeHandoffOptions): boolean;
  /** Claims (or releases) the flow from a remote address for this worker; false when the table is full. */
  steerAddress(claim: boolean, family: 4 | 6, ip: string, port: number): boolean;
  /** Claims (or releases) the Binding requests naming a local ufrag for this worker. */
  steerUfrag(claim: boolean, ufrag: string): boolean;
  /** Opens (or closes) a connected flow socket for a remote on this socket's port; false when refused. */
  connectFlow(open: boolean, family: 4 | 6, ip: string, port: number): boolean;
  /**
   * Answers consent checks from the remote of `addressRecord` natively (native/stun/stun_consent_responder.hpp):
   * USERNAME `localUfrag:remoteUfrag`, MESSAGE-INTEGRITY with `password`, the peer in the other role
   * (USE-CANDIDATE only from a controlling peer, counted apart). With `remotePassword`, `tieBreaker`,
   * `priority` and `timeoutMs` it also sends our own checks to that remote (sendConsentChecks) and
   * verifies their answers (docs/ice.md "Consent checks sent natively").
   * Returns the registration id (0: refused).
   */
  addConsentResponder(
    addressRecord: Uint8Array,
    localUfrag: string,
    remoteUfrag: string,
    password: string,
    controlling: boolean,
    remotePassword?: string,
    tieBreaker?: Uint8Array,
    priority?: number,
    timeoutMs?: number,
  ): number;
  removeConsentResponder(id: number): void;
  /**
   * Writes (id, answered since the last take, of those with USE-CANDIDATE, verified answers to our
   * checks, ms since the last of them or 0xFFFFFFFF) entries into `out`; returns the entries written.
   */
  takeConsentAnswers(out: Uint32Array): number;
  /**
   * Sends one consent check to each of the first `count` registrations in `ids`; returns the checks
   * sent. The ids none was sent for (`count` minus that many) are moved to the front of `ids`.
   */
  sendConsentChecks(ids: Uint32Array, count: number): number;
  noteAgentConsentCheck(id: number, request: Uint8Array): boolean;
  consentStats(): NativeConsentStats;
  close(): void;
}

/** What a registration needs to send our own consent checks natively (docs/ice.md "Consent checks sent natively"). */
export interface NativeConsentCheckSetup {
  /** The peer's password: MESSAGE-INTEGRITY of our checks and of their answers. */
  remotePassword: string;
  /** The agent's 8-byte tie-breaker (the role attribute's value). */
  tieBreaker: Uint8Array;
  /** PRIORITY of our checks. */
  priority: number;
  /** A check older than this (the consent timeout, ms) is no longer answered for. */
  timeoutMs: number;
}

/** Counters of a socket's native consent answers. */
export interface NativeConsentStats {
  /** Consent checks answered natively. */
  answered: number;
  /** Binding requests from a registered remote left to JavaScript (not a plain consent check, or forged); responses and indications are not counted. */
  declined: number;
  /** Remotes registered now. */
  registrations: number;
  /** Our own consent checks sent natively. */
  checksSent: number;
  /** Their success responses matched (full transaction id, source) and verified (integrity, fingerprint). */
  responsesVerified: number;
  /**
   * Verified success responses to checks the agent sent itself on a registered pair (a check the
   * native side could not send, a triggered or nominating check), left to the agent, which matches
   * them: not a drop. Every response from a registered remote that sends checks is counted once: here,
   * in responsesVerified, or in responsesDropped.
   */
  responsesToAgent: number;
  /**
   * Binding responses from a registered remote that refreshed nothing, left to the agent (which drops
   * them), by reason: no outstanding check with that transaction id (a replay, a guess, too old),
   * MESSAGE-INTEGRITY or FINGERPRINT wrong, an error response, truncated or badly laid out.
   */
  responsesDropped: { unknownTransaction: number; badIntegrity: number; badFingerprint: number; errorResponse: number; malformed: number };
}

/** What a socket needs to take part in the shared-port hand-off (docs/scaling.md "One port across workers"). */
export interface NativeHandoffOptions {
  /** The steering table, a view of the SharedArrayBuffer every worker shares. */
  table: Int32Array;
  /** This worker's index. */
  self: number;
  /** Read end of this worker's channel. */
  inboxFd: number;
  /** Write ends of every worker's channel, by index. */
  outboxFds: Int32Array;
  /** [sent, received, dropped, steeringFull, flowSockets, flowReceived, flowRefused] (native/udp/udp_reuseport_handoff.hpp HandoffCounter). */
  counters: Float64Array;
  /** Connected flow sockets this worker may open at most (0: none; docs/scaling.md "Connected flow sockets"). */
  flowSockets: number;
}

/** Status codes returned by bind (native/udp/udp_socket.hpp UdpStatus). */
export const enum NativeUdpStatus {
  Ok = 0,
  WouldBlock,
  AddressInUse,
  InvalidAddress,
  AddressNotAvailable,
  PermissionDenied,
  TooBig,
  Closed,
  SystemError,
}

/** Indexes of the counters array (native/udp/udp_socket.hpp UdpCounter). */
export const enum NativeUdpCounter {
  PacketsIn = 0,
  BytesIn,
  PacketsOut,
  BytesOut,
  RecvSyscalls,
  SendSyscalls,
  DropTruncated,
  DropRecvError,
  DropSendTooBig,
  DropSendUnreachable,
  DropSendRefused,
  DropSendOther,
  SendBlocked,
  GsoSends,
  Batches,
  SrtpUnprotected,
  SrtpRecvDropped,
  SrtpProtected,
  SrtpProtectFailed,
  GroReceives,
  GroSegments,
  ChannelDataReceived,
  ChannelDataSent,
  ChannelDataMalformed,
  GsoFallbacks,
  JsCalls,
  Count,
}

type NativeUdpSocketCtor = new (
  recvBuffer: Buffer, slotSize: number, recvLengths: Uint32Array, recvAddresses: Uint8Array, recvPorts: Uint16Array,
  recvFamilies: Uint8Array, recvStatus: Uint8Array, recvRelays: Uint16Array, sendBuffer: Buffer, sendOffsets: Uint32Array,
  sendLengths: Uint32Array, sendAddresses: Uint8Array, sendRoutes: Uint16Array, counters: Float64Array,
  onBatch: (count: number) => void,
) => NativeUdpSocket;

/** Creates the native socket object over the given pools. */
export function createNativeUdpSocket(pools: NativeUdpPools): NativeUdpSocket {
  const Ctor = nativeExport<NativeUdpSocketCtor>('UdpSocket');
  // Positional: the native constructor reads no property by name (docs/peer.md "Setup cost").
  return new Ctor(pools.recvBuffer, pools.slotSize, pools.recvLengths, pools.recvAddresses, pools.recvPorts,
    pools.recvFamilies, pools.recvStatus, pools.recvRelays, pools.sendBuffer, pools.sendOffsets, pools.sendLengths,
    pools.sendAddresses, pools.sendRoutes, pools.counters, pools.onBatch);
}

/** Number of counters the loaded binary keeps (checked against NativeUdpCounter.Count). */
export function nativeUdpCounterCount(): number {
  return nativeExport<number>('udpCounterCount');
}
