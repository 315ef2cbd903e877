// Test harness: ICE agents exchanging datagrams over the seeded SimNetwork on a virtual clock,
// with optional 1:1 NAT per peer and a signaling channel under the test's control.
import { SimNetwork, type SimLinkOptions } from './sim-network.js';
import { SeededRng } from '../../lib/common/rng.js';
import { IceAgent, type IceAgentEvent, type IceAgentOptions } from '../../lib/ice/ice-agent.js';
import { formatCandidate } from '../../lib/ice/candidate.js';
import { addressKey, type TransportAddress } from '../../lib/ice/transport-address.js';
import { StunMessage } from '../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../lib/ice/stun-constants.js';

/** One simulated peer: an agent, its host addresses and an optional NAT mapping. */
export interface SimPeer {
  name: string;
  agent: IceAgent;
  hosts: TransportAddress[];
  /** private host key → public address seen by others. */
  nat: Map<string, TransportAddress>;
  events: IceAgentEvent[];
  states: string[];
  /** Local candidate lines (null = end-of-candidates) not yet delivered to the other side. */
  outbox: (string | null)[];
}

/** Two peers over one simulated network. */
export class IceSim {
  now = 0;
  readonly net: SimNetwork;
  readonly peers: SimPeer[] = [];
  private readonly owners = new Map<string, { peer: SimPeer; local: TransportAddress }>();
  private readonly reverseNat = new Map<string, { peer: SimPeer; local: TransportAddress }>();
  private readonly stunServers = new Set<string>();
  /** Binding requests answered by the simulated STUN servers. */
  stunRequests = 0;

  constructor(seed: number, link: SimLinkOptions = {}) {
    this.net = new SimNetwork(seed, link);
  }

  /** Adds a peer with host addresses; `nat` maps each host to a public address (1:1 NAT). */
  addPeer(name: string, options: Omit<IceAgentOptions, 'rng'> & { seed: number }, hosts: TransportAddress[], nat: TransportAddress[] = []): SimPeer {
    const agent = new IceAgent({ ...options, rng: new SeededRng(options.seed) });
    const peer: SimPeer = { name, agent, hosts, nat: new Map(), events: [], states: [], outbox: [] };
    hosts.forEach((h, i) => {
      this.owners.set(addressKey(h), { peer, local: h });
      const pub = nat[i];
      if (pub) {
        peer.nat.set(addressKey(h), pub);
        this.reverseNat.set(addressKey(pub), { peer, local: h });
      }
    });
    this.peers.push(peer);
    return peer;
  }

  /** A STUN server at `address` that answers Binding requests with the (NATed) source address. */
  addStunServer(address: TransportAddress): void {
    this.stunServers.add(addressKey(address));
  }

  /** Adds every host address of `peer` as a host candidate and ends gathering. */
  gather(peer: SimPeer): void {
    for (const h of peer.hosts) peer.agent.addLocalCandidate(this.now, { type: 'host', address: h.address, port: h.port });
    peer.agent.endOfLocalCandidates(this.now);
    this.drain();
  }

  /** Gives `to` the credentials of `from` (the remote description). */
  describe(from: SimPeer, to: SimPeer, lite = false): void {
    to.agent.setRemoteCredentials(this.now, from.agent.localCredentials, { lite });
    this.drain();
  }

  /** Delivers the queued candidates of `from` to `to` (in order, or reversed). */
  trickle(from: SimPeer, to: SimPeer, order: 'in-order' | 'reversed' = 'in-order'): void {
    const items = order === 'reversed' ? [...from.outbox].reverse() : [...from.outbox];
    from.outbox.length = 0;
    for (const c of items) to.agent.addRemoteCandidate(this.now, c);
    this.drain();
  }

  /** Drains every agent: transmits into the network, events into the peer's log. */
  drain(): void {
    for (const p of this.peers) {
      for (let t = p.agent.pollTransmit(); t; t = p.agent.pollTransmit()) {
        const pub = p.nat.get(addressKey(t.local)) ?? t.local;
        this.net.send(this.now, addressKey(pub), addressKey(t.remote), t.data);
      }
      for (let e = p.agent.pollEvent(); e; e = p.agent.pollEvent()) {
        p.events.push(e);
        if (e.type === 'connection-state') p.states.push(e.state);
        if (e.type === 'local-candidate') p.outbox.push(e.candidate ? formatCandidate(e.candidate) : null);
      }
    }
  }

  private answerStun(server: string, from: string, data: Buffer): void {
    const r = StunMessage.decode(data);
    if (!r.ok || r.message.method !== StunMethod.Binding || r.message.messageClass !== StunClass.Request) return;
    this.stunRequests++;
    const [address, port] = splitKey(from);
    const res = new StunMessage(StunMethod.Binding, StunClass.SuccessResponse, r.message.transactionId)
      .addAddress(StunAttr.XorMappedAddress, { address, port })
      .encode({ fingerprint: true });
    this.net.send(this.now, server, from, res);
  }

  /** Runs the simulation until `until` (virtual ms) or until `stop()` holds. */
  run(until: number, stop: () => boolean = () => false): void {
    this.drain();
    while (this.now < until && !stop()) {
      let next = this.net.nextDeliveryAt();
      for (const p of this.peers) {
        const t = p.agent.pollTimeout();
        if (t !== undefined && (next === undefined || t < next)) next = t;
      }
      if (next === undefined) break;
      this.now = Math.min(until, Math.max(this.now, next));
      for (const d of this.net.deliverDue(this.now)) {
        if (this.stunServers.has(d.to)) {
          this.answerStun(d.to, d.from, d.data);
          continue;
        }
        const target = this.owners.get(d.to) ?? this.reverseNat.get(d.to);
        if (!target) continue;
        // A NATed peer only receives on its public address (1:1 NAT, no hairpin needed here).
        if (target.peer.nat.size > 0 && this.owners.get(d.to)) continue;
        const [address, port] = splitKey(d.from);
        target.peer.agent.handleInput(this.now, { local: target.local, remote: { address, port }, data: d.data });
      }
      for (const p of this.peers) {
        const t = p.agent.pollTimeout();
        if (t !== undefined && t <= this.now) p.agent.handleTimeout(this.now);
      }
      this.drain();
    }
  }
}

/** Parses `a.b.c.d:port` / `[v6]:port`. */
function splitKey(key: string): [string, number] {
  const i = key.lastIndexOf(':');
  const host = key.slice(0, i);
  return [host.startsWith('[') ? host.slice(1, -1) : host, Number(key.slice(i + 1))];
}
