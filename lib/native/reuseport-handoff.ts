// Typed view of the addon's shared-port hand-off functions (binding/udp_reuseport_binding.cpp,
// docs/scaling.md "One port across workers"): channels, the steering table's size, crash cleanup.
import { nativeExport } from './addon.js';

/** Indexes of a worker's hand-off counters (native/udp/udp_reuseport_handoff.hpp HandoffCounter). */
export const enum NativeHandoffCounter {
  Sent = 0,
  Received,
  Dropped,
  SteeringFull,
  FlowSockets,
  FlowReceived,
  FlowRefused,
  Count,
}

/** A hand-off channel: the owner reads `readFd`, every other worker writes `writeFd`. */
export interface NativeHandoffChannel {
  readonly readFd: number;
  readonly writeFd: number;
}

/** Creates a channel (an AF_UNIX datagram socketpair, `bufferBytes` of queue); throws when the OS refuses. */
export function createHandoffChannel(bufferBytes: number): NativeHandoffChannel {
  const [readFd, writeFd] = nativeExport<(bytes: number) => [number, number]>('createHandoffChannel')(bufferBytes);
  return { readFd, writeFd };
}

/** Closes a channel's descriptors; only once no worker uses them any more. */
export function closeHandoffChannel(channel: NativeHandoffChannel): void {
  nativeExport<(a: number, b: number) => void>('closeHandoffChannel')(channel.readFd, channel.writeFd);
}

/** Removes every steering entry of worker `owner` (it has failed); returns how many. */
export function steeringReleaseOwner(table: Int32Array, owner: number): number {
  return nativeExport<(t: Int32Array, o: number) => number>('steeringReleaseOwner')(table, owner);
}

/** 32-bit words per steering entry. */
export function steeringEntryWords(): number {
  return nativeExport<number>('steeringEntryWords');
}

/** Number of hand-off counters the loaded binary keeps (checked against NativeHandoffCounter.Count). */
export function nativeHandoffCounterCount(): number {
  return nativeExport<number>('handoffCounterCount');
}
