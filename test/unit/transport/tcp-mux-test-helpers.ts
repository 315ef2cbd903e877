// Shared setup of the passive ICE-TCP port tests (lib/transport/source/tcp-mux.ts; RFC 6544, RFC 4571
// framing; docs/udp.md "TCP framing"): a TcpMux with one controlled ICE agent attached, and raw
// loopback TCP connections to it.
import { connect, type Socket } from 'node:net';
import { IceTransport } from '../../../lib/transport/ice-transport.js';
import { TcpMux, type TcpMuxOptions } from '../../../lib/transport/source/tcp-mux.js';

/** The remote ICE parameters the agent expects in checks. */
export const PEER = { ufrag: 'peer', password: 'peerpasswordpeerpassword' };

/** A TcpMux on 127.0.0.1 with a controlled agent attached, gathered and given `PEER`; `close()` closes both. */
export async function listenWithIce(options: Partial<TcpMuxOptions> = {}): Promise<{ mux: TcpMux; ice: IceTransport; close(): void }> {
  const mux = await TcpMux.listen({ address: '127.0.0.1', ...options });
  const ice = new IceTransport({ role: 'controlled', gather: { addresses: [] } });
  mux.attach(ice);
  await ice.gather();
  ice.setRemoteParameters({ usernameFragment: PEER.ufrag, password: PEER.password });
  return { mux, ice, close: () => (ice.close(), mux.close()) };
}

/** A TCP connection to the mux's port; rejects on a connection error. */
export function open(mux: TcpMux): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(mux.local.port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

/** Resolves once `s` is closed, ended or errored (at once if it already is). */
export function closed(s: Socket): Promise<void> {
  return new Promise((r) => {
    if (s.destroyed || s.readableEnded) return r();
    s.on('close', () => r());
    s.on('end', () => r());
    s.on('error', () => r());
  });
}
