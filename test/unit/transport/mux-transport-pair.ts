// Test helpers: two ICE transports connected over real loopback sockets, the server on a fresh UdpMux
// port or both on their own sockets (docs/ice.md "Driver"; RFC 8445 §7), and a UDP port bound again
// once a closed transport has let it go.
import { createSocket, type Socket } from 'node:dgram';
import { IceTransport, type IceTransportOptions } from '../../../lib/transport/ice-transport.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { until } from '../../integration/peer-helpers.js';

/** Whether the transport is connected (or completed). */
export const up = (t: IceTransport): boolean => t.state === 'connected' || t.state === 'completed';

/** The server (controlled) on a new mux and the client (controlling), both with `agent`'s options, once both are up. */
export async function connectOverMux(
  agent: IceTransportOptions['agent'],
  options: { nativeConsent?: boolean; serverMode?: 'full' | 'lite'; clientNativeConsent?: boolean } = {},
): Promise<{ mux: UdpMux; server: IceTransport; client: IceTransport }> {
  const mux = await UdpMux.bind({ address: '127.0.0.1', nativeConsent: options.nativeConsent });
  const server = mux.createTransport({ role: 'controlled', mode: options.serverMode, agent });
  const client = new IceTransport({ role: 'controlling', gather: { addresses: ['127.0.0.1'] }, agent, nativeConsent: options.clientNativeConsent });
  await connectPair(server, client);
  return { mux, server, client };
}

/** Trades the two transports' candidates and parameters and gathers both; no wait. */
export async function startPair(server: IceTransport, client: IceTransport): Promise<void> {
  server.on('icecandidate', (c) => client.addRemoteCandidate(c));
  client.on('icecandidate', (c) => server.addRemoteCandidate(c));
  server.setRemoteParameters(client.localParameters);
  client.setRemoteParameters(server.localParameters);
  await Promise.all([server.gather(), client.gather()]);
}

/** startPair, then waits (15 s at most) until both are up. */
export async function connectPair(server: IceTransport, client: IceTransport): Promise<void> {
  await startPair(server, client);
  await until(() => up(server) && up(client), 15_000, 'connected');
}

/** A plain UDP socket bound to 127.0.0.1:`port`, retried for about 2 s while a closed owner lets the port go. */
export async function bindUdpAgain(port: number): Promise<Socket> {
  for (let attempt = 0; ; attempt++) {
    const s = createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(port, '127.0.0.1', () => {
          s.off('error', reject);
          resolve();
        });
      });
      return s;
    } catch (err) {
      s.close();
      if (attempt >= 100) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
