// Consumer legs' RTCP sender reports sent by the forwarding engine (RFC 3550 §6.4.1 SR + §6.5.1 SDES
// CNAME in one compound, §6.1): each leg's reporter (lib/policy/rtcp-reporter.ts) decides that its
// report is due and queues it here; all legs queued in one report tick leave in ONE native call
// (UdpSocket.forwardSenderReports) at the end of the tick. docs/sfu.md "RTCP per leg".
import { performance } from 'node:perf_hooks';
import type { NativeForwardEngine } from '../native/forward.js';
import type { UdpSocket } from '../transport/source/udp-socket.js';

/** Most bytes of a CNAME in one SDES item (its length is one octet, RFC 3550 §6.5). */
const MAX_CNAME_BYTES = 255;

/** A leg as the queue sees it: the engine's consumer id and the CNAME registered for it. */
interface ReportingLeg {
  readonly id: number;
  readonly closed: boolean;
}

/** See the file header. One per router; preallocated arrays, grown by doubling, nothing per report. */
export class LegSenderReports {
  private ids = new Uint32Array(64);
  private unixMs = new Float64Array(64);
  /** performance.now() when each report was queued: its NTP time moves on to the flush (below). */
  private queuedAt = new Float64Array(64);
  private sent = new Uint8Array(64);
  private count = 0;
  private flushQueued = false;
  private readonly cnames = new Map<number, string>();
  private readonly encoder = new TextEncoder();
  /** Reports queued, native calls made, and reports the engine could not send (no route, no packet yet). */
  readonly stats = { queued: 0, calls: 0, notSent: 0 };
  private readonly flush = (): void => this.flushNow();

  constructor(private readonly engine: NativeForwardEngine, private readonly socket: () => UdpSocket | undefined) {}

  /**
   * Queues leg `leg`'s SR + SDES for the end of this tick; false when the engine cannot send it
   * (no native port, the leg closed, a CNAME over 255 bytes): the reporter then builds it itself.
   */
  queue(leg: ReportingLeg, unixMs: number, cname: string): boolean {
    if (leg.closed || this.socket() === undefined || !Number.isFinite(unixMs)) return false;
    if (this.cnames.get(leg.id) !== cname) {
      const bytes = this.encoder.encode(cname);
      if (bytes.length > MAX_CNAME_BYTES || !this.engine.setConsumerCname(leg.id, bytes)) return false;
      this.cnames.set(leg.id, cname);
    }
    if (this.count === this.ids.length) this.grow();
    const i = this.count++;
    this.ids[i] = leg.id;
    this.unixMs[i] = unixMs;
    this.queuedAt[i] = performance.now();
    this.stats.queued++;
    if (!this.flushQueued) {
      this.flushQueued = true;
      // After every connection's policy timer of this tick has run (they share one Node timer).
      queueMicrotask(this.flush);
    }
    return true;
  }

  /** The leg's engine consumer is removed: a queued report is dropped (its id may be reused). */
  forget(id: number): void {
    this.cnames.delete(id);
    for (let i = 0; i < this.count; i++) if (this.ids[i] === id) this.ids[i] = 0;
  }

  private flushNow(): void {
    this.flushQueued = false;
    const n = this.count;
    this.count = 0;
    const socket = this.socket();
    if (n === 0 || socket === undefined) return;
    // The engine computes each RTP timestamp at the flush; the NTP time is moved on by the time the
    // report waited, so that the two still name the same instant (RFC 3550 §6.4.1).
    const at = performance.now();
    for (let i = 0; i < n; i++) this.unixMs[i] = this.unixMs[i]! + Math.max(0, at - this.queuedAt[i]!);
    this.stats.calls++;
    const left = socket.forwardSenderReports(this.ids, this.unixMs, n, this.sent);
    this.stats.notSent += n - left;
  }

  private grow(): void {
    const size = this.ids.length * 2;
    const ids = new Uint32Array(size);
    ids.set(this.ids);
    const unixMs = new Float64Array(size);
    unixMs.set(this.unixMs);
    const queuedAt = new Float64Array(size);
    queuedAt.set(this.queuedAt);
    this.ids = ids;
    this.unixMs = unixMs;
    this.queuedAt = queuedAt;
    this.sent = new Uint8Array(size);
  }
}
