// Which path our server-side peer connections take in the interop run: their own sockets (default)
// or one shared UdpMux port for every session (PWT_INTEROP_PATH=udp-mux; shared-port.test.ts runs
// the server-role tests that way). On the shared-port path the results and captured SDP of the
// default run are left as they are.
import { UdpMux } from '../../lib/transport/source/udp-mux.js';

/** True when the run puts every server session on one shared port. */
export const SHARED_PORT = process.env.PWT_INTEROP_PATH === 'udp-mux';

let mux: Promise<UdpMux> | undefined;

/** Options to spread into startEchoServer: `{ udpMux }` on the shared-port path, else nothing. */
export async function serverPath(): Promise<{ udpMux?: UdpMux }> {
  if (!SHARED_PORT) return {};
  mux ??= UdpMux.bind({ address: '127.0.0.1' });
  return { udpMux: await mux };
}

/** Closes the shared port (after the file's tests). */
export async function closeServerPath(): Promise<void> {
  if (mux) (await mux).close();
  mux = undefined;
}
