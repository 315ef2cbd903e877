// A WHIP endpoint (lib/signaling's handler on an ephemeral loopback port) in front of another
// stack's answerer, so our whip-client can be tested against their server role.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWhipHandler } from '../../lib/signaling/whip-server.js';

/** A running endpoint. */
export interface TestWhipEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `answer(offer)` at `http://127.0.0.1:<port>/whip`; DELETE calls `end`. */
export async function startWhipEndpoint(answer: (offer: string) => Promise<string>, end: () => void = () => {}): Promise<TestWhipEndpoint> {
  const handler = createWhipHandler({
    offer: (_id, sdp) => answer(sdp),
    end: () => {
      end();
      return true;
    },
  });
  const http = createServer((req, res) => {
    void handler(req, res).then((handled) => {
      if (!handled) {
        res.writeHead(404);
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/whip`,
    close: () => new Promise<void>((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    }),
  };
}
