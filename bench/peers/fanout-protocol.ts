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
  /** Packets the subscribers received during the round. */
  delivered: number;
  /** Packets the publisher sent times the subscriber count (what a lossless relay delivers). */
  offered: number;
  /** NACKs the clients had sent by the end of the round (nackShare > 0). */
  nacksSent?: number;
  /** Packets the server resent from a cache by the end of the round (relays that report it). */
  retransmitted?: number;
  /** The server's port over the round (see FanoutReply), where the relay reports it. */
  socket?: { sendSyscalls: number; packetsSent: number; gsoSends: number; sendBlocked: number; recvSyscalls: number; packetsReceived: number; jsCalls: number };
}

/** The clients' task. */
export interface FanoutTask {
  subscribers: number;
  /** Aggregate forwarded packets/s the publisher's rate aims at (rate = this / subscribers)... */
  offeredPps: number;
  /** ...but a publisher never sends faster than this (a heavy video publisher). */
  maxPublisherPps: number;
  payload: number;
  seconds: number;
  /** Publishing before the first measured round (default 0.3 s): long enough that the rounds see steady state. */
  warmupSeconds?: number;
  rounds: number;
  /**
   * Share of subscribers (0..1, at least one when > 0) that send a generic NACK for a packet they
   * already received, once every 50 packets: the relay's retransmission cost (default 0).
   */
  nackShare?: number;
}
