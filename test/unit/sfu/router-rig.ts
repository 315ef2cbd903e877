// The lib/sfu router tests' rig over real loopback sockets: a Router on its own UdpMux with one
// publisher (room-peers.ts), and the teardown that closes the router, the peers, then the mux.
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { Router } from '../../../lib/sfu/index.js';
import { closePeers, publisher, type Publisher } from './room-peers.js';

/** A router on a loopback mux and a publisher of `kind` whose server side is on that mux. */
export interface RouterRig {
  mux: UdpMux;
  router: Router;
  pub: Publisher;
}

/** Binds a mux on 127.0.0.1, creates its router and connects one publisher. */
export async function routerRig(kind: 'audio' | 'video'): Promise<RouterRig> {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const pub = await publisher(mux, kind);
  return { mux, router, pub };
}

/** Closes the router, then each peer given (in order; undefined ones skipped), then the mux. */
export function closeRouterRig(router: Router, mux: UdpMux, ...peers: Parameters<typeof closePeers>): void {
  router.close();
  closePeers(...peers);
  mux.close();
}
