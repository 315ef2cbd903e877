// Messages between the fanout suite's client process and server process (relayed by the suite).

/** A request from the clients to the server. */
export type FanoutRequest =
  | { id: number; op: 'publish'; sdp: string }
  | { id: number; op: 'subscribe' }
  | { id: number; op: 'answer'; sub: number; sdp: string }
  | { id: number; op: 'mark' };

/** The server's reply; `mark` returns what happened since the previous mark. */
export interface FanoutReply {
  id: number;
  sdp?: string;
  sub?: number;
  forwarded?: number;
  cpuUs?: number;
  /** Of cpuUs, user mode (the rest is the kernel's: sends, loopback delivery, epoll). */
  userUs?: number;
  wallMs?: number;
  /** Packets resent from a cache so far (relays that count them). */
  retransmitted?: number;
  /** Sequence numbers consumers asked for so far (NACK), and of those the ones the cache did not hold (relays that count them). */
  nacked?: number;
  nackMisses?: number;
  /** The shared port's socket over the round (relays on one native port): what sendmmsg/recvmmsg batched. */
  sendSyscalls?: number;
  packetsSent?: number;
  gsoSends?: number;
  /** sendmmsg calls the kernel refused for a full send buffer (the rest waited in the socket's queue). */
  sendBlocked?: number;
  recvSyscalls?: number;
  packetsReceived?: number;
  /** Receive batches the port handed to JavaScript (the rest the native engine consumed alone). */
  jsCalls?: number;
  error?: string;
}

/** One measured fanout round, as the clients report it. */
export interface FanoutRound {
  /** Packets the server sent to subscribers during the round. */
  forwarded: number;
  /** Server process CPU during the round, µs. */
  serverCpuUs: number;
  /** Of serverCpuUs, user mode (relays that report it). */
  serverUserUs?: number;
  wallMs: number;
  /**
   * Packets the subscribers received of those published in the round: with the native client
   * (fanout-native-clients.ts) distinct SRTP-authenticated packets by the (round, index) each
   * payload carries, summed over subscribers; with the JavaScript client, every packet its tracks
   * yielded during the round.
   */
  delivered: number;
  /** Packets the publisher sent times the subscriber count (what a lossless relay delivers). */
  offered: number;
  /** NACKs the clients had sent by the end of the round (nackShare > 0). */
  nacksSent?: number;
  /** Packets the server resent from a cache by the end of the round (relays that report it). */
  retransmitted?: number;
  /** Sequence numbers NACKed to the server, and of those not in its cache, by the end of the round (relays that report it). */
  nacked?: number;
  nackMisses?: number;
  /** The machine's 1-minute load average at the end of the round (2 cores shared with other work). */
  loadAverage?: number;
  /** What the native client counted in the round (absent with the JavaScript client). */
  client?: FanoutClientRound;
  /** The step of `FanoutTask.steps` the round measured (absent without steps). */
  step?: FanoutStep;
  /** Packets the publisher sent during the round (offered = this × subscribers). */
  published?: number;
  /**
   * Wake-ups of the publisher that sent at least one packet in the round (native client): the bursts
   * the relay is woken by, so published / publishedBursts is the packets per wake-up the loopback
   * floor (bench/native/fanout_floor.c) replays.
   */
  publishedBursts?: number;
  /** The server's port over the round (see FanoutReply), where the relay reports it. */
  socket?: { sendSyscalls: number; packetsSent: number; gsoSends: number; sendBlocked: number; recvSyscalls: number; packetsReceived: number; jsCalls: number };
}

/** The native client's own counts of one round (bench/loadgen, docs/bench/README.md "fanout load generator"). */
export interface FanoutClientRound {
  /** Fewest distinct packets of the round any one subscriber received (delivered / N when all are equal). */
  minDelivered: number;
  /** Packets of the round received again (not in delivered), and distinct ones that arrived after a later one. */
  duplicates: number;
  outOfOrder: number;
  /** The load generator's CPU (publisher and all subscribers, user + system) over the round, µs. */
  cpuUs: number;
  /** Authenticated RTP whose payload was not the publisher's, and datagrams that failed SRTP/SRTCP. */
  foreign: number;
  unauthenticated: number;
  /** NACKing subscribers: packets dropped on arrival on purpose (then NACKed), retransmissions that arrived. */
  droppedOnPurpose: number;
  retransmissionsReceived: number;
  /** Sequence numbers the relay NACKed to the publisher in the round (asked upstream). */
  askedUpstream: number;
}

/**
 * How the publisher spaces its packets. `paced`: the packets due at each 5 ms timer tick (one per
 * tick at 200 packets/s or less, rate / 200 back to back above). `frames`: a video-like stream at
 * 30 frames/s, each frame's rate / 30 packets back to back every 33 ms.
 */
export type PublishPattern = 'paced' | 'frames';

/** One load step of a capacity measurement: `rounds` rounds at this publisher rate and pattern. */
export interface FanoutStep {
  publisherPps: number;
  pattern: PublishPattern;
}

/** The clients' task. */
export interface FanoutTask {
  subscribers: number;
  /** Aggregate forwarded packets/s the publisher's rate aims at (rate = this / subscribers)... */
  offeredPps: number;
  /** ...but a publisher never sends faster than this (a heavy video publisher). */
  maxPublisherPps: number;
  payload: number;
  /**
   * The media (default audio: Opus-shaped). `video` (VP8 with RTX where the relay offers it, each
   * packet a key frame start) is what the NACK run uses, since our relays negotiate NACK for video
   * only; the native client only, and not the pion relay (its forwarder is audio).
   */
  kind?: 'audio' | 'video';
  seconds: number;
  /** Publishing before the first measured round (default 0.3 s): long enough that the rounds see steady state. */
  warmupSeconds?: number;
  rounds: number;
  /**
   * Share of subscribers (0..1, at least one when > 0) that lose every 50th packet on arrival (2 %,
   * dropped before SRTP, as the network would) and send a generic NACK for it where the relay
   * negotiated NACK: the relay's retransmission cost (default 0). The JavaScript client instead
   * NACKs a packet it already received once every 50.
   */
  nackShare?: number;
  /**
   * Capacity measurement: load steps measured one after another on the same connections (the
   * warm-up runs at the first step). Without steps the publisher sends paced packets at
   * min(maxPublisherPps, offeredPps / subscribers).
   */
  steps?: FanoutStep[];
}
