// The data-channel test messages the echo page and the WHIP client send (issue 9): 100 messages,
// strings and binary, 1 B to 60000 B, including the SCTP fragmentation edges 16384/16385/32768.

/** One test message: its kind and size in bytes. */
export interface PlannedMessage {
  readonly binary: boolean;
  readonly size: number;
}

/** Sizes every plan includes: the smallest, fragment edges and the largest. */
const EDGE_SIZES = [1, 2, 1200, 16383, 16384, 16385, 32767, 32768, 32769, 60000];

/** The fixed plan of 100 messages: edges first (each as string and as binary), then spread sizes. */
export function messagePlan(count = 100): PlannedMessage[] {
  const plan: PlannedMessage[] = [];
  for (const size of EDGE_SIZES) {
    plan.push({ binary: false, size }, { binary: true, size });
  }
  for (let i = 0; plan.length < count; i++) plan.push({ binary: i % 2 === 1, size: 1 + ((i * 7919) % 60000) });
  return plan.slice(0, count);
}

/** The bytes of message `index` (ASCII letters, so a string message has as many bytes as chars). */
export function messageBytes(index: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let j = 0; j < size; j++) b[j] = 97 + ((index * 7 + j) % 26);
  return b;
}
