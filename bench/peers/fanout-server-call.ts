// The fanout client processes' side of the IPC with the server process (relayed by the suite):
// numbered requests, each answered by one reply carrying the same id (bench/peers/fanout-protocol.ts).
import type { FanoutReply, FanoutRequest } from './fanout-protocol.js';

/** A request as the client writes it: the id is added by the caller below. */
export type FanoutRequestBody = FanoutRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * Starts listening for the server's replies on this process's IPC channel and returns the function
 * that sends one request and resolves with its reply (rejects with the server's error).
 */
export function fanoutServerCall(): (body: FanoutRequestBody) => Promise<FanoutReply> {
  let nextId = 0;
  const waiting = new Map<number, (r: FanoutReply) => void>();
  process.on('message', (m: FanoutReply) => {
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  return (body) => {
    const id = ++nextId;
    return new Promise((resolve, reject) => {
      waiting.set(id, (r) => (r.error ? reject(new Error(`server: ${r.error}`)) : resolve(r)));
      process.send!({ ...body, id });
    });
  };
}
