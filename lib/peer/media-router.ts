// Routes received clear RTP/RTCP of one BUNDLE transport to transceivers (RFC 8843 §9.2): by
// SSRC (announced with a=ssrc, RFC 5576, or learned), else by the mid header extension, else by
// a payload type only one receiver negotiated; rid / repaired-rid (RFC 8852) select simulcast
// tracks and RTX streams (RFC 4588 §4), which are unwrapped. RTCP (RFC 5761 §4 demux) goes to the
// sender it is about (reports, feedback) or the receiver of the SSRC that sent it (SR, SDES, BYE);
// an XR from a source we do not receive from (an RRTR of a receive-only peer, RFC 3611 §4.4) goes
// to the sender the compound packet's report blocks are about.
// Network input never throws: every packet that cannot be routed is counted in `drops`.
import { isRtcp } from '../rtp/demux.js';
import { parseSdesId } from '../rtp/extensions/sdes-id.js';
import { RtpPacket } from '../rtp/rtp-packet.js';
import { tryParseRtcp, type RtcpPacket } from '../rtp/rtcp/compound.js';
import { unwrapRtx } from '../rtp/rtx.js';
import type { AnnouncedSender } from '../sdp/rtp-parameters.js';
import type { InboundStream, RTCRtpReceiver } from './rtp-receiver.js';
import type { RTCRtpTransceiver } from './rtp-transceiver.js';
import { loggedDropCounters } from '../common/log.js';
import { reportListenerError } from '../common/typed-emitter.js';

/** Receive drops by reason. */
export interface MediaRouterDrops {
  rtpMalformed: number;
  rtpUnknownSsrc: number;
  rtpNotReceiving: number;
  rtxUnmatched: number;
  rtcpMalformed: number;
  rtcpUnrouted: number;
  ssrcLimit: number;
}

/**
 * Sees what the router routes, for the policy modules (docs/policy.md). Absent when no module
 * looks at incoming packets, so routing costs nothing more then.
 */
export interface MediaRouterTap {
  /** A receive batch starts (packets point into `data`). */
  begin(data: Buffer, now: number): void;
  /** Every parsed RTP packet, before routing (transport-scope modules). */
  transportRtp(packet: RtpPacket, start: number, length: number): void;
  /** An RTP packet delivered to a transceiver's stream (RTX already unwrapped). */
  rtp(t: RTCRtpTransceiver, packet: RtpPacket, start: number, length: number, retransmission: boolean): void;
  /** Every parsed RTCP compound packet. */
  rtcpCompound(packets: readonly RtcpPacket[]): void;
  /** An RTCP packet routed to a transceiver (its sender or receiver). */
  rtcp(t: RTCRtpTransceiver, packet: RtcpPacket): void;
  /** The receive batch is over. */
  end(data: Buffer, now: number): void;
}

/** Where an RTCP packet is dispatched (RTCRtpSender / RTCRtpReceiver). */
interface RtcpEventTarget {
  listenerCount(event: 'rtcp'): number;
  dispatch(event: { type: 'rtcp'; packet: RtcpPacket }): void;
}

type Route =
  | { readonly kind: 'media'; readonly transceiver: RTCRtpTransceiver; readonly stream: InboundStream }
  | { readonly kind: 'rtx'; readonly transceiver: RTCRtpTransceiver; readonly originalSsrc: number };

/** Up to this many bound transceivers, MediaRouter's two lists are kept at their length. */
const SMALL_LIST = 8;

/** Most remote SSRCs one connection learns (bounds what hostile input can make us keep). */
const MAX_SSRCS = 1024;

/** The receive-side demultiplexer of one peer connection. */
export class MediaRouter {
  readonly drops: MediaRouterDrops = loggedDropCounters('media', {
    rtpMalformed: 0, rtpUnknownSsrc: 0, rtpNotReceiving: 0, rtxUnmatched: 0, rtcpMalformed: 0, rtcpUnrouted: 0, ssrcLimit: 0,
  });
  private readonly bySsrc = new Map<number, Route>();
  private readonly senders = new Map<number, RTCRtpTransceiver>();
  /** @internal Set by the peer connection while policy modules look at incoming packets. */
  tap: MediaRouterTap | undefined;
  /**
   * @internal Listeners that get each well-formed compound RTCP packet's bytes before its packets
   * are routed (lib/sfu answers its NACKs natively, one call per compound); the bytes are valid
   * only during the call.
   */
  /** Made at the first listener (most connections have none: idle memory, docs/peer.md). */
  rtcpBytesListeners: Set<(data: Buffer, start: number, length: number) => void> | undefined;
  /**
   * The bound transceivers in bind order, and the mid each is bound with at the same index (a mid
   * bound again names the latest transceiver: the earlier one's is cleared). Two short arrays
   * rather than a Set and a by-mid Map (about 0.3 KiB of tables per connection, docs/peer.md
   * "Memory per idle connection"); a transceiver is found by mid only for an SSRC not yet learned.
   * Up to SMALL_LIST entries they are copied one longer (kept at their length), beyond that they
   * grow by push (no copy per bind for a connection with hundreds of transceivers).
   */
  private transceivers: RTCRtpTransceiver[] = [];
  private mids: (string | undefined)[] = [];
  private midId: number | undefined;
  private ridId: number | undefined;
  private repairedRidId: number | undefined;

  /** Header extension ids negotiated for mid, rid and repaired-rid (RFC 8285: one mapping per BUNDLE group). */
  setExtensionIds(mid: number | undefined, rid: number | undefined, repairedRid: number | undefined): void {
    this.midId = mid;
    this.ridId = rid;
    this.repairedRidId = repairedRid;
  }

  /** Registers a transceiver's mid, its sender SSRC and the remote senders the SDP announced. */
  bind(t: RTCRtpTransceiver, mid: string, remoteSenders: readonly AnnouncedSender[]): void {
    const mids = this.mids;
    // A mid bound again names this transceiver only (as a by-mid Map's set did).
    for (let i = mids.indexOf(mid); i >= 0; i = mids.indexOf(mid, i + 1)) if (this.transceivers[i] !== t) mids[i] = undefined;
    const at = this.transceivers.indexOf(t);
    if (at >= 0) mids[at] = mid;
    else if (mids.length < SMALL_LIST) {
      // concat, not push or a spread: their arrays have room for 17.
      this.transceivers = this.transceivers.concat(t);
      this.mids = mids.concat(mid);
    } else {
      this.transceivers.push(t);
      mids.push(mid);
    }
    this.senders.set(t.sender.ssrc, t);
    this.senders.set(t.sender.rtxSsrc, t);
    for (let i = 0; i < t.sender.encodings.length; i++) this.senders.set(t.sender.encodings[i]!.ssrc, t);
    for (let i = 0; i < remoteSenders.length; i++) {
      const s = remoteSenders[i]!;
      const existing = this.bySsrc.get(s.ssrc);
      if (!existing || existing.transceiver !== t) {
        const stream = t.receiver.streams.get(s.ssrc) ?? t.receiver.bind(s.ssrc, t.receiver.track, 0);
        this.bySsrc.set(s.ssrc, { kind: 'media', transceiver: t, stream });
      }
      if (s.rtxSsrc !== undefined) this.bySsrc.set(s.rtxSsrc, { kind: 'rtx', transceiver: t, originalSsrc: s.ssrc });
    }
  }

  /** Forgets a stopped transceiver. */
  unbind(t: RTCRtpTransceiver): void {
    const at = this.transceivers.indexOf(t);
    if (at >= 0) {
      this.transceivers.splice(at, 1);
      this.mids.splice(at, 1);
    }
    for (const [ssrc, r] of this.bySsrc) if (r.transceiver === t) this.bySsrc.delete(ssrc);
  }

  /** Every inbound stream (for stats). */
  inboundStreams(): { transceiver: RTCRtpTransceiver; stream: InboundStream }[] {
    const out: { transceiver: RTCRtpTransceiver; stream: InboundStream }[] = [];
    for (const r of this.bySsrc.values()) if (r.kind === 'media') out.push({ transceiver: r.transceiver, stream: r.stream });
    return out;
  }

  /** Routes one batch of clear packets (see PeerTransportHandler.onMedia). */
  receive(data: Buffer, starts: Uint32Array, lengths: Uint32Array, count: number, now: number): void {
    this.tap?.begin(data, now);
    for (let i = 0; i < count; i++) {
      const start = starts[i]!;
      const length = lengths[i]!;
      if (isRtcp(data, start, length)) this.receiveRtcp(data, start, length);
      else this.receiveRtp(data, start, length, now);
    }
    this.tap?.end(data, now);
  }

  private receiveRtp(data: Buffer, start: number, length: number, now: number): void {
    const packet = RtpPacket.tryParse(data, start, length);
    if (!packet) {
      this.drops.rtpMalformed++;
      return;
    }
    const tap = this.tap;
    if (tap) tap.transportRtp(packet, start, length);
    const route = this.bySsrc.get(packet.ssrc!) ?? this.learn(packet, now);
    if (!route) return;
    const t = route.transceiver;
    if (t.stopped) {
      this.drops.rtpNotReceiving++;
      return;
    }
    if (route.kind === 'media') {
      deliver(route.stream, packet, length, now);
      if (tap) tap.rtp(t, packet, start, length, false);
      return;
    }
    const original = this.bySsrc.get(route.originalSsrc);
    const originalPt = t.receiver.params?.rtxOriginal.get(packet.payloadType!);
    const unwrapped = original?.kind === 'media' && originalPt !== undefined ? unwrapRtx(packet, { ssrc: route.originalSsrc, payloadType: originalPt }) : null;
    if (!unwrapped || original?.kind !== 'media') {
      // Padding-only probes and RTX for unknown streams end here.
      this.drops.rtxUnmatched++;
      return;
    }
    deliver(original.stream, unwrapped, length - 2, now);
    if (tap) tap.rtp(t, unwrapped, start, length, true);
  }

  /** Binds an unannounced SSRC by mid / rid / repaired-rid extension or unique payload type. */
  private learn(packet: RtpPacket, now: number): Route | undefined {
    if (this.bySsrc.size >= MAX_SSRCS) {
      this.drops.ssrcLimit++;
      return undefined;
    }
    let t: RTCRtpTransceiver | undefined;
    if (this.midId !== undefined) {
      const mid = packet.getExtension(this.midId);
      if (mid && mid.length > 0) {
        const at = this.mids.indexOf(parseSdesId(mid));
        if (at >= 0) t = this.transceivers[at];
      }
    }
    const pt = packet.payloadType!;
    if (!t) {
      let found: RTCRtpTransceiver | undefined;
      let n = 0;
      const list = this.transceivers;
      for (let i = 0; i < list.length; i++) {
        const x = list[i]!;
        const p = x.receiver.params;
        if (p && (p.clockRates.has(pt) || p.rtxOriginal.has(pt))) {
          found = x;
          n++;
        }
      }
      if (n === 1) t = found;
    }
    if (!t || !t.receiver.params) {
      this.drops.rtpUnknownSsrc++;
      return undefined;
    }
    const receiver: RTCRtpReceiver = t.receiver;
    const ssrc = packet.ssrc!;
    if (receiver.params!.rtxOriginal.has(pt)) {
      const rrid = this.repairedRidId !== undefined ? packet.getExtension(this.repairedRidId) : undefined;
      let original: InboundStream | undefined;
      if (rrid && rrid.length > 0) {
        const rid = parseSdesId(rrid);
        for (const s of receiver.streams.values()) if (s.track.rid === rid) original = s;
      } else if (receiver.streams.size === 1) {
        original = receiver.streams.values().next().value;
      }
      if (!original) {
        this.drops.rtxUnmatched++;
        return undefined;
      }
      const route: Route = { kind: 'rtx', transceiver: t, originalSsrc: original.ssrc };
      this.bySsrc.set(ssrc, route);
      receiver.notifyBound({ ssrc, rid: original.track.rid, repair: true });
      return route;
    }
    if (!receiver.params!.clockRates.has(pt)) {
      this.drops.rtpUnknownSsrc++;
      return undefined;
    }
    let rid: string | undefined;
    if (this.ridId !== undefined && receiver.params!.rids.length > 0) {
      const r = packet.getExtension(this.ridId);
      if (r && r.length > 0) rid = parseSdesId(r);
    }
    const route: Route = { kind: 'media', transceiver: t, stream: receiver.bind(ssrc, receiver.trackForRid(rid), now, rid) };
    this.bySsrc.set(ssrc, route);
    return route;
  }

  private receiveRtcp(data: Buffer, start: number, length: number): void {
    const packets = tryParseRtcp(data, start, length);
    if (!packets) {
      this.drops.rtcpMalformed++;
      return;
    }
    this.tap?.rtcpCompound(packets);
    if (this.rtcpBytesListeners !== undefined && this.rtcpBytesListeners.size > 0) {
      for (const listener of this.rtcpBytesListeners) {
        try {
          listener(data, start, length);
        } catch (err) {
          reportListenerError(err);
        }
      }
    }
    let reportOwner: RTCRtpTransceiver | undefined;
    for (const p of packets) reportOwner = this.routeRtcp(p, reportOwner);
  }

  /** Routes one packet of a compound; returns the sender its report blocks are about, else `reportOwner` (the compound's so far). */
  private routeRtcp(p: RtcpPacket, reportOwner: RTCRtpTransceiver | undefined): RTCRtpTransceiver | undefined {
    let routed = false;
    if ('mediaSsrc' in p) {
      const owner = this.senders.get(p.mediaSsrc);
      if (owner) {
        this.dispatchRtcp(owner.sender, p);
        this.tap?.rtcp(owner, p);
        routed = true;
      } else {
        // Transport-wide feedback (transport-cc, REMB, FIR with media SSRC 0) concerns every sender.
        const list = this.transceivers;
        for (let i = 0; i < list.length; i++) {
          const t = list[i]!;
          this.dispatchRtcp(t.sender, p);
          this.tap?.rtcp(t, p);
          routed = true;
        }
      }
    } else {
      if ('reports' in p && Array.isArray(p.reports)) {
        for (const block of p.reports as { ssrc: number }[]) {
          const owner = this.senders.get(block.ssrc);
          if (owner) {
            this.dispatchRtcp(owner.sender, p);
            this.tap?.rtcp(owner, p);
            routed = true;
            reportOwner = owner;
            break;
          }
        }
      }
      if ('ssrc' in p && typeof p.ssrc === 'number') {
        const route = this.bySsrc.get(p.ssrc);
        if (route) {
          this.dispatchRtcp(route.transceiver.receiver, p);
          this.tap?.rtcp(route.transceiver, p);
          routed = true;
        }
      }
      if (!routed && p.kind === 'xr' && reportOwner) {
        this.dispatchRtcp(reportOwner.sender, p);
        this.tap?.rtcp(reportOwner, p);
        routed = true;
      }
    }
    if (!routed) this.drops.rtcpUnrouted++;
    return reportOwner;
  }

  /**
   * The 'rtcp' event of a sender or receiver: none is made when nobody listens (an SFU consumer's
   * sender in steady state, docs/sfu.md "What a subscriber's RTCP costs").
   */
  private dispatchRtcp(target: RtcpEventTarget, packet: RtcpPacket): void {
    if (target.listenerCount('rtcp') === 0) return;
    target.dispatch({ type: 'rtcp', packet });
  }
}

function deliver(s: InboundStream, packet: RtpPacket, length: number, now: number): void {
  const seq = packet.sequenceNumber!;
  s.packetsReceived++;
  s.bytesReceived += packet.payloadLength;
  s.headerBytesReceived += length - packet.payloadLength;
  s.lastPacketReceivedAt = now;
  if (s.baseSequence < 0) {
    s.baseSequence = seq;
    s.maxSequence = seq;
  } else {
    const delta = (seq - s.maxSequence) & 0xffff;
    if (delta !== 0 && delta < 0x8000) {
      if (seq < s.maxSequence) s.cycles += 65536;
      s.maxSequence = seq;
    }
  }
  s.track.push(packet);
}
