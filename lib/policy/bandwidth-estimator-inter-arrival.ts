// Packet groups and their inter-group deltas for delay-based bandwidth estimation
// (draft-ietf-rmcat-gcc-02 §5.2, "pre-filtering"; docs/policy.md, "Bandwidth estimator").
// Packets sent within 5 ms form one group; a packet that arrives in a burst with the group (it
// gained on the packet before it and came within 5 ms) joins it, as the draft's pre-filter says.

/** Deltas between two consecutive complete groups, ms and bytes. */
export interface GroupDelta {
  /** Send time delta of the groups' last packets. */
  sendDeltaMs: number;
  /** Arrival time delta of the groups' last packets. */
  arrivalDeltaMs: number;
  /** Arrival time of the newer group's last packet. */
  arrivalTimeMs: number;
  /** Size delta (newer − older). */
  sizeDelta: number;
}

interface Group {
  firstSendMs: number;
  lastSendMs: number;
  firstArrivalMs: number;
  completeArrivalMs: number;
  size: number;
}

/** Groups packets (in arrival order) and reports the delta each time a group completes. */
export class InterArrivalGrouper {
  private current: Group | undefined;
  private previous: Group | undefined;
  /** Packets ignored because they were sent before the group being built (reordered). */
  reorderedIgnored = 0;

  constructor(
    private readonly groupLengthMs = 5,
    private readonly burstMs = 5,
    private readonly maxBurstDurationMs = 100,
    /** An arrival delta this far beyond the send delta means a clock jump or path change: start over. */
    private readonly resetAfterMs = 3000,
  ) {}

  /** Feeds one received packet; returns the delta when it completes a group and one came before. */
  add(sendMs: number, arrivalMs: number, size: number): GroupDelta | undefined {
    const cur = this.current;
    if (cur === undefined) {
      this.current = { firstSendMs: sendMs, lastSendMs: sendMs, firstArrivalMs: arrivalMs, completeArrivalMs: arrivalMs, size };
      return undefined;
    }
    if (sendMs < cur.firstSendMs) {
      this.reorderedIgnored++;
      return undefined;
    }
    if (this.belongsTo(cur, sendMs, arrivalMs)) {
      cur.lastSendMs = Math.max(cur.lastSendMs, sendMs);
      cur.completeArrivalMs = Math.max(cur.completeArrivalMs, arrivalMs);
      cur.size += size;
      return undefined;
    }
    // `cur` is complete: report it against the group before it.
    let delta: GroupDelta | undefined;
    const prev = this.previous;
    if (prev !== undefined) {
      const sendDeltaMs = cur.lastSendMs - prev.lastSendMs;
      const arrivalDeltaMs = cur.completeArrivalMs - prev.completeArrivalMs;
      if (arrivalDeltaMs - sendDeltaMs > this.resetAfterMs || arrivalDeltaMs < 0) {
        this.previous = undefined;
        this.current = { firstSendMs: sendMs, lastSendMs: sendMs, firstArrivalMs: arrivalMs, completeArrivalMs: arrivalMs, size };
        return undefined;
      }
      delta = { sendDeltaMs, arrivalDeltaMs, arrivalTimeMs: cur.completeArrivalMs, sizeDelta: cur.size - prev.size };
    }
    this.previous = cur;
    this.current = { firstSendMs: sendMs, lastSendMs: sendMs, firstArrivalMs: arrivalMs, completeArrivalMs: arrivalMs, size };
    return delta;
  }

  private belongsTo(g: Group, sendMs: number, arrivalMs: number): boolean {
    if (sendMs - g.firstSendMs <= this.groupLengthMs) return true;
    // Burst: it was queued behind the group and arrived right after it.
    const arrivalDelta = arrivalMs - g.completeArrivalMs;
    const sendDelta = sendMs - g.lastSendMs;
    if (sendDelta === 0) return true;
    return arrivalDelta - sendDelta < 0 && arrivalDelta <= this.burstMs && arrivalMs - g.firstArrivalMs < this.maxBurstDurationMs;
  }
}
