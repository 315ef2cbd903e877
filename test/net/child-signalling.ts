// The signalling side of a test child that runs in its own network namespace (bwe-peer-child.ts,
// sfu-auto-layers-child.ts, sfu-chromium-auto-layers-browser.ts): JSON lines out on stdout and in on
// stdin, relayed by the test. The child exits when stdin closes, and at the latest `durationMs` + 30 s
// after it started; `beforeExit` (a child holding a Chromium: closing it removes its profile from
// /tmp) runs first, for at most 10 s.
import { createInterface } from 'node:readline';

/** One message from the test. */
export interface ChildMessage {
  type: string;
  sdp?: string;
}

/** Starts reading stdin; `say` writes one message, `next` resolves with the next one received. */
export function childSignalling(durationMs: number, beforeExit?: () => Promise<void>): { say(m: object): void; next(): Promise<ChildMessage> } {
  let exiting = false;
  const exit = (code: number): void => {
    if (exiting) return;
    exiting = true;
    const bound = new Promise<void>((r) => setTimeout(r, 10_000));
    void Promise.race([beforeExit?.().catch(() => {}), bound]).finally(() => process.exit(code));
  };
  const inbox: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (l) => {
    const w = waiters.shift();
    if (w) w(l);
    else inbox.push(l);
  });
  lines.on('close', () => exit(0));
  // Bounded whatever happens: the test also kills the child, this is the backstop.
  setTimeout(() => exit(3), durationMs + 30_000).unref();
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
