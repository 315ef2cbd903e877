// The signalling side of a test child that runs in its own network namespace (bwe-peer-child.ts,
// sfu-auto-layers-child.ts): JSON lines out on stdout and in on stdin, relayed by the test. The child
// exits when stdin closes, and at the latest `durationMs` + 30 s after it started.
import { createInterface } from 'node:readline';

/** One message from the test. */
export interface ChildMessage {
  type: string;
  sdp?: string;
}

/** Starts reading stdin; `say` writes one message, `next` resolves with the next one received. */
export function childSignalling(durationMs: number): { say(m: object): void; next(): Promise<ChildMessage> } {
  const inbox: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (l) => {
    const w = waiters.shift();
    if (w) w(l);
    else inbox.push(l);
  });
  lines.on('close', () => process.exit(0));
  // Bounded whatever happens: the test also kills the child, this is the backstop.
  setTimeout(() => process.exit(3), durationMs + 30_000).unref();
  return {
    say: (m) => {
      process.stdout.write(`${JSON.stringify(m)}\n`);
    },
    next: () =>
      new Promise((r) => {
        const l = inbox.shift();
        if (l !== undefined) r(JSON.parse(l) as ChildMessage);
        else waiters.push((x) => r(JSON.parse(x) as ChildMessage));
      }),
  };
}
