// Test helper: a server ICE transport on a fresh UdpMux port and a client on its own loopback socket,
// connected over real sockets (docs/ice.md "Driver"; RFC 8445 §7).
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
  server.on('icecandidate', (c) => client.addRemoteCandidate(c));
  client.on('icecandidate', (c) => server.addRemoteCandidate(c));
  server.setRemoteParameters(client.localParameters);
  client.setRemoteParameters(server.localParameters);
  await Promise.all([server.gather(), client.gather()]);
  await until(() => up(server) && up(client), 15_000, 'connected');
  return { mux, server, client };
}
