// Drives the policy modules of one peer connection (docs/policy.md): feeds them what the media
// router routes (one call per chain per receive batch), carries out their effects (RTCP, RTP,
// events) on the BUNDLE transport and keeps one deadline, the earliest timeout any module asked for,
// in a timer group shared by every connection on the thread.
import { CoalescingTimers } from '../common/coalescing-timers.js';
import { reportListenerError } from '../common/typed-emitter.js';
import { findExtensionElement, isTwoByteProfile, ONE_BYTE_PROFILE } from '../rtp/header-extension.js';
import type { RtpPacket } from '../rtp/rtp-packet.js';
import { rtcpByteLength, serializeRtcpInto, type RtcpPacket } from '../rtp/rtcp/compound.js';
import type { PeerTransport } from '../transport/peer-transport.js';
import type { MediaRouter } from './media-router.js';
import type { RtpPolicyChain, RtpPolicySink } from './rtp-policy-chain.js';
import { RtpPacketFlags, type RtpPolicyEvent } from './rtp-policy.js';
import type { RTCRtpTransceiver } from './rtp-transceiver.js';
import { emptyArray } from '../common/empty-array.js';

/** The policy timers of every connection on this thread (lib/common/coalescing-timers.ts). */
const policyTimers = new CoalescingTimers();

/** What the driver needs from its peer connection. */
export interface PolicyDriverOwner {
  /** The negotiated transport (undefined before). */
  mediaTransport(): PeerTransport | undefined;
  readonly router: MediaRouter;
  now(): number;
  transceivers(): readonly RTCRtpTransceiver[];
  /** Dispatches a module event to the application. */
  emitPolicyEvent(event: RtpPolicyEvent, transceiver: RTCRtpTransceiver | undefined): void;
}

/** Effects that could not be carried out, by reason (getStats `pwtDrops.policy`). */
export interface PolicyDrops {
  /** RTCP produced before the transport was up, or too large for one datagram. */
  rtcpNotSent: number;
  /** RTP produced by a transport-scope module for an SSRC no sender owns. */
  rtpNoSender: number;
}

/**
 * See the file header. It is the MediaRouterTap of the router (structurally: those members are
 * internal, so the published class does not name the interface).
 */
export class PolicyDriver {
  readonly drops: PolicyDrops = { rtcpNotSent: 0, rtpNoSender: 0 };
  /** Header extension id of the transport-wide sequence number, as negotiated. */
  transportCcId: number | undefined;
  private readonly timer = policyTimers.create(() => this.fire());
  private armedAt = Infinity;
  private closed = false;
  private batchNow = 0;
  private batchData: Buffer = Buffer.alloc(0);
  private readonly touched: RtpPolicyChain[] = [];

  constructor(private readonly owner: PolicyDriverOwner, readonly transportChain: RtpPolicyChain) {
    this.attachChain(transportChain, undefined);
  }

  /** Wires a transceiver's chain (its effects go through the transceiver's sender). */
  attach(t: RTCRtpTransceiver): void {
    this.attachChain(t.policies, t);
  }

  private attachChain(chain: RtpPolicyChain, t: RTCRtpTransceiver | undefined): void {
    chain.sink = new ChainSink(this, t);
    chain.host = this;
    this.updateTap();
  }

  /** @internal The chain host (RtpPolicyChainHost, structurally): the connection's clock. */
  now(): number {
    return this.owner.now();
  }

  /** @internal The chain host: modules changed, the router tap may be needed or not. */
  chainChanged(): void {
    this.updateTap();
  }

  /** Installs the router tap only while some module looks at incoming packets. */
  updateTap(): void {
    let needed = this.transportChain.hasIncomingRtp || this.transportChain.hasIncomingRtcp;
    for (const t of this.owner.transceivers()) if (t.policies.hasIncomingRtp || t.policies.hasIncomingRtcp) needed = true;
    this.owner.router.tap = needed && !this.closed ? this : undefined;
  }

  // ---- MediaRouterTap ------------------------------------------------------------------

  /** @internal */
  begin(data: Buffer, now: number): void {
    this.batchData = data;
    this.batchNow = now;
  }

  /** @internal */
  transportRtp(packet: RtpPacket, start: number, length: number): void {
    const chain = this.transportChain;
    if (!chain.hasIncomingRtp) return;
    const seq = this.transportCcId === undefined ? -1 : transportSequenceAt(this.batchData, start, length, this.transportCcId);
    this.push(chain, packet, start, length, seq, 0);
  }

  /** @internal */
  rtp(t: RTCRtpTransceiver, packet: RtpPacket, start: number, length: number, retransmission: boolean): void {
    const chain = t.policies;
    if (!chain.hasIncomingRtp) return;
    this.push(chain, packet, start, length, -1, retransmission ? RtpPacketFlags.RETRANSMISSION : 0);
  }

  /** @internal */
  rtcpCompound(packets: readonly RtcpPacket[]): void {
    const chain = this.transportChain;
    if (!chain.hasIncomingRtcp) return;
    this.mark(chain);
    const list = chain.rtcpInput();
    for (const p of packets) list.push(p);
  }

  /** @internal */
  rtcp(t: RTCRtpTransceiver, packet: RtcpPacket): void {
    const chain = t.policies;
    if (!chain.hasIncomingRtcp) return;
    this.mark(chain);
    // An SR about our sender from the stream we receive reaches both halves: keep it once.
    const list = chain.rtcpInput();
    if (list[list.length - 1] !== packet) list.push(packet);
  }

  /** @internal */
  end(_data: Buffer, now: number): void {
    const touched = this.touched;
    for (let i = 0; i < touched.length; i++) {
      const chain = touched[i]!;
      chain.incomingRtp(now);
      chain.incomingRtcp(now);
    }
    emptyArray(touched);
  }

  private push(chain: RtpPolicyChain, packet: RtpPacket, start: number, length: number, seq: number, flags: number): void {
    const b = chain.incoming;
    if (b.count === 0) {
      b.reset(this.batchData);
      this.mark(chain);
    }
    if (!b.push(start, length, packet.ssrc!, packet.sequenceNumber!, packet.timestamp!, packet.payloadType!, packet.marker, packet.payloadLength, seq, flags)) {
      chain.incomingRtp(this.batchNow);
      b.reset(this.batchData);
      b.push(start, length, packet.ssrc!, packet.sequenceNumber!, packet.timestamp!, packet.payloadType!, packet.marker, packet.payloadLength, seq, flags);
    }
  }

  private mark(chain: RtpPolicyChain): void {
    if (!this.touched.includes(chain)) this.touched.push(chain);
  }

  // ---- effects ---------------------------------------------------------------------------

  /** @internal */
  sendRtcp(packets: readonly RtcpPacket[]): void {
    const transport = this.owner.mediaTransport();
    if (!transport || this.closed) {
      this.drops.rtcpNotSent++;
      return;
    }
    const size = rtcpByteLength(packets);
    if (size === 0 || size > transport.maxMediaSize) {
      this.drops.rtcpNotSent++;
      return;
    }
    const length = serializeRtcpInto(packets, transport.scratchBuffer, 0);
    transport.sendMedia(1, length);
  }

  /** @internal */
  sendRtp(t: RTCRtpTransceiver | undefined, data: Buffer, retransmission: boolean): void {
    let target = t;
    if (!target && data.length >= 12) {
      const ssrc = data.readUInt32BE(8);
      target = this.owner.transceivers().find((x) => x.sender.ssrc === ssrc || x.sender.rtxSsrc === ssrc || x.sender.encodings.some((e) => e.ssrc === ssrc));
    }
    if (!target) {
      this.drops.rtpNoSender++;
      return;
    }
    target.sender.sendFromPolicy(data, retransmission);
  }

  // ---- the timer ---------------------------------------------------------------------------

  /** @internal */
  rearm(at: number): void {
    if (this.closed || at >= this.armedAt) return;
    this.armedAt = at;
    // One timer for every connection's drivers (unref'd: the transport's sockets keep the process
    // alive); far deadlines may run a little late so that many connections' run together.
    policyTimers.schedule(this.timer, at - this.owner.now());
  }

  private fire(): void {
    this.armedAt = Infinity;
    if (this.closed) return;
    const now = this.owner.now();
    // Index loops: no iterator per report tick of an idle PC (docs/architecture.md).
    const transceivers = this.owner.transceivers();
    try {
      for (let i = 0; i < transceivers.length; i++) transceivers[i]!.policies.timeout(now);
      this.transportChain.timeout(now);
    } catch (err) {
      reportListenerError(err);
    }
    let next = Infinity;
    const after = this.owner.transceivers();
    for (let i = 0; i < after.length; i++) next = Math.min(next, after[i]!.policies.nextTimeout() ?? Infinity);
    next = Math.min(next, this.transportChain.nextTimeout() ?? Infinity);
    // A module whose timeout did not move forward is run again 1 ms later, not in a busy loop.
    if (next !== Infinity) this.rearm(Math.max(next, now + 1));
  }

  /** @internal A module event, to the application. */
  emitEvent(module: string, name: RtpPolicyEvent['name'], detail: RtpPolicyEvent['detail'], t: RTCRtpTransceiver | undefined): void {
    this.owner.emitPolicyEvent({ name, module, detail } as RtpPolicyEvent, t);
  }

  /** Runs every module's stop (RTCP BYE...) and stops the timer. */
  close(): void {
    if (this.closed) return;
    const now = this.owner.now();
    for (const t of this.owner.transceivers()) if (!t.stopped) t.policies.stop(now);
    this.transportChain.stop(now);
    this.closed = true;
    policyTimers.cancel(this.timer);
    this.owner.router.tap = undefined;
  }
}

/**
 * Where one chain's effects go. A class, not an object of closures per chain: the chains' shared
 * flush() then calls one function per effect kind whichever chain runs it (closures made per chain
 * are different call targets, and the second chain to flush deoptimized it mid-run).
 */
class ChainSink implements RtpPolicySink {
  constructor(private readonly driver: PolicyDriver, private readonly transceiver: RTCRtpTransceiver | undefined) {}
  sendRtcp(packets: readonly RtcpPacket[]): void {
    this.driver.sendRtcp(packets);
  }
  sendRtp(data: Buffer, retransmission: boolean): void {
    this.driver.sendRtp(this.transceiver, data, retransmission);
  }
  emit(module: string, name: RtpPolicyEvent['name'], detail: RtpPolicyEvent['detail']): void {
    this.driver.emitEvent(module, name, detail, this.transceiver);
  }
  rearm(at: number): void {
    this.driver.rearm(at);
  }
}

/**
 * The transport-wide sequence number (extension `id`, RFC 8285 element of 2 bytes) of the RTP
 * packet at data[start, start + length), read in place (no view is made), or -1. The packet was
 * parsed already, so its header is consistent.
 */
function transportSequenceAt(data: Buffer, start: number, length: number, id: number): number {
  const b0 = data[start]!;
  if ((b0 & 0x10) === 0) return -1;
  const ext = start + 12 + (b0 & 0x0f) * 4;
  if (ext + 4 > start + length) return -1;
  const profile = (data[ext]! << 8) | data[ext + 1]!;
  const twoByte = isTwoByteProfile(profile);
  if (!twoByte && profile !== ONE_BYTE_PROFILE) return -1;
  const words = (data[ext + 2]! << 8) | data[ext + 3]!;
  if (ext + 4 + words * 4 > start + length) return -1;
  const r = findExtensionElement(data, ext + 4, words * 4, twoByte, id);
  if (r < 0 || r % 256 < 2) return -1;
  const at = Math.floor(r / 256);
  return (data[at]! << 8) | data[at + 1]!;
}
