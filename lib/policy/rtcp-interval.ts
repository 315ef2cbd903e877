// The RTCP transmission interval (RFC 3550 §6.3.1, §6.2, algorithm of §A.7 rtcp_interval): the
// share of the session bandwidth RTCP may use, split between senders and receivers, the minimum
// interval (halved before the first report), randomized over [0.5, 1.5] and compensated by e − 3/2.

/** RFC 3550 §A.7: e − 3/2, compensating the bias of timer reconsideration (§6.3.6). */
export const RTCP_INTERVAL_COMPENSATION = Math.E - 1.5;

/** What the interval depends on (RFC 3550 §6.3: members, senders, rtcp_bw, we_sent, avg_rtcp_size, initial). */
export interface RtcpIntervalInput {
  /** Participants, this one included (`members`). */
  readonly members: number;
  /** Participants that sent RTP recently, this one included when `weSent` (`senders`). */
  readonly senders: number;
  /** We sent RTP since the report before the last one (`we_sent`). */
  readonly weSent: boolean;
  /** RTCP bandwidth, bytes per second (`rtcp_bw`: 5 % of the session bandwidth, §6.2). */
  readonly rtcpBytesPerSecond: number;
  /** Average compound RTCP packet size with IP/UDP headers, bytes (`avg_rtcp_size`, §6.3.3). */
  readonly averageRtcpSize: number;
  /** No RTCP packet sent yet (`initial`): the minimum is halved (§6.2). */
  readonly initial: boolean;
  /** Minimum interval Tmin, ms (§6.2: 5 s in the RFC; WebRTC stacks use 1 s for video). */
  readonly minIntervalMs: number;
}

/**
 * RFC 3550 §A.7 rtcp_interval in ms: deterministic part max(Tmin, avg_rtcp_size × n / rtcp_bw), times
 * `random` ∈ [0, 1) mapped to [0.5, 1.5], divided by e − 3/2. When senders are at most a quarter of
 * the members, they share 25 % of the RTCP bandwidth and the receivers 75 % (§6.3.1).
 */
export function rtcpIntervalMs(input: RtcpIntervalInput, random: number): number {
  let rtcpBw = input.rtcpBytesPerSecond;
  let n = input.members;
  if (input.senders > 0 && input.senders <= input.members * 0.25) {
    if (input.weSent) {
      rtcpBw *= 0.25;
      n = input.senders;
    } else {
      rtcpBw *= 0.75;
      n = input.members - input.senders;
    }
  }
  let t = ((input.averageRtcpSize * n) / rtcpBw) * 1000;
  const min = input.initial ? input.minIntervalMs / 2 : input.minIntervalMs;
  if (t < min) t = min;
  return (t * (random + 0.5)) / RTCP_INTERVAL_COMPENSATION;
}
