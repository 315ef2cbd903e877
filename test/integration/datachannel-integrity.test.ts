// Data-channel integrity under loss, duplication and reordering (RFC 8831 sections 6.5-6.6 over
// RFC 9260 sections 6.2-6.9): two of our peers exchange mixed messages on an ordered and an
// unordered reliable channel, both ways at once, through a loopback UDP relay that drops,
// duplicates and reorders SCTP-carrying DTLS records in a seeded pattern. Every message must arrive
// exactly once, intact and of its kind; ordered ones in order.
// Short form here; long form (more messages, more loss): PWT_DC_INTEGRITY_LONG=1 (npm run test:dc-integrity).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection, type RTCDataChannel } from '../../lib/peer/index.js';
import { ImpairmentRelay, type Impairment } from '../net/impairment-relay.js';
import { IntegrityChecker, integrityPayload, integrityPlan, type IntegrityMessage } from './datachannel-integrity-plan.js';
import { within } from './peer-helpers.js';

const LONG = process.env.PWT_DC_INTEGRITY_LONG === '1';

/** DTLS application_data records (content type 23, RFC 6347 section 4.1): the SCTP packets. */
const isSctpRecord = (d: Buffer): boolean => d[0] === 23;

/** Keeps only the candidates `keep` accepts (and drops end-of-candidates). */
function filterCandidates(sdp: string, keep: (line: string) => boolean): string {
  return sdp.split('\r\n').filter((l) => !(l.startsWith('a=candidate:') || l === 'a=end-of-candidates') || (l.startsWith('a=candidate:') && keep(l))).join('\r\n');
}

/** Sends `plan` on `channel`, keeping at most ~1 MiB queued (waits for bufferedamountlow). */
async function sendAll(channel: RTCDataChannel, plan: readonly IntegrityMessage[], tag: number): Promise<void> {
  channel.bufferedAmountLowThreshold = 256 * 1024;
  for (let i = 0; i < plan.length; i++) {
    if (channel.bufferedAmount > 1024 * 1024) {
      await new Promise<void>((resolve) => channel.once('bufferedamountlow', () => resolve()));
    }
    channel.send(integrityPayload(tag, i, plan[i]!));
  }
}

/** Resolves once `checker` has every message (or rejects on the first error). */
function receiveAll(channel: RTCDataChannel, checker: IntegrityChecker): Promise<void> {
  channel.binaryType = 'nodebuffer';
  return new Promise<void>((resolve, reject) => {
    channel.on('message', (e) => {
      checker.add(e.data);
      if (checker.errors.length > 0) reject(new Error(checker.errors.join('; ')));
      else if (checker.complete) resolve();
    });
  });
}

function opened(channel: RTCDataChannel): Promise<void> {
  return channel.readyState === 'open' ? Promise.resolve() : new Promise((r) => channel.once('open', () => r()));
}

interface Scenario {
  name: string;
  /** Messages per channel and direction (4 streams in all). */
  perStream: number;
  impairment: Impairment;
  seed: number;
}

async function runScenario(s: Scenario): Promise<string> {
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const server = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  let relay: ImpairmentRelay | undefined;
  try {
    const channels = { ordered: client.createDataChannel('ordered'), unordered: client.createDataChannel('unordered', { ordered: false }) };
    const remote = new Map<string, RTCDataChannel>();
    const both = new Promise<void>((resolve) => server.on('datachannel', (e) => {
      remote.set(e.channel.label, e.channel);
      if (remote.size === 2) resolve();
    }));
    // The server gets no client candidates and the client only the relay's port, so every
    // datagram goes through the relay (the server learns it as a peer-reflexive candidate).
    await client.setLocalDescription(await client.createOffer());
    await server.setRemoteDescription({ type: 'offer', sdp: filterCandidates(client.localDescription!.sdp, () => false) });
    await server.setLocalDescription(await server.createAnswer());
    const answer = server.localDescription!.sdp;
    const m = /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host/.exec(answer);
    assert.ok(m, 'the answer has a 127.0.0.1 host candidate');
    relay = await ImpairmentRelay.start({ address: '127.0.0.1', port: Number(m[1]) }, s.impairment, s.impairment, { seed: s.seed, impairs: isSctpRecord });
    const relayed = filterCandidates(answer, (l) => l.includes(` 127.0.0.1 ${m[1]} typ host`)).replace(` 127.0.0.1 ${m[1]} typ host`, ` 127.0.0.1 ${relay.port} typ host`);
    await client.setRemoteDescription({ type: 'answer', sdp: relayed });
    await within(Promise.all([client.connected(), server.connected()]), 20_000, 'connected through the relay');
    await within(Promise.all([opened(channels.ordered), opened(channels.unordered), both]), 20_000, 'channels open');

    const plan = integrityPlan(s.perStream, s.seed);
    const work: Promise<void>[] = [];
    const checkers: [string, IntegrityChecker][] = [];
    let tag = 0;
    for (const [label, local] of Object.entries(channels)) {
      const far = remote.get(label)!;
      assert.equal(far.ordered, label === 'ordered');
      for (const [from, to] of [[local, far], [far, local]] as const) {
        const t = tag++;
        const checker = new IntegrityChecker(plan, t, label === 'ordered');
        checkers.push([`${label} ${from === local ? 'client→server' : 'server→client'}`, checker]);
        work.push(receiveAll(to, checker), sendAll(from, plan, t));
      }
    }
    const deadlineMs = (LONG ? 600 : 120) * 1000;
    try {
      await within(Promise.all(work), deadlineMs, `${s.name}: all messages`);
    } catch (error) {
      const progress = checkers.map(([n, c]) => `${n}: ${c.received}/${s.perStream}`).join(', ');
      throw new Error(`${(error as Error).message} (${progress}; relay ${JSON.stringify({ up: relay.toServer, down: relay.toClient })})`);
    }
    // The loss shows in the senders' sctp-transport stats (lib/peer/stats-sctp.ts).
    const sctp = [...(await client.getStats()).values()].find((e) => e.type === 'sctp-transport');
    assert.ok(sctp, 'the client reports an sctp-transport entry');
    assert.equal(sctp.mtu, 1200);
    assert.ok((sctp.congestionWindow as number) > 0 && typeof sctp.receiverWindow === 'number' && typeof sctp.smoothedRoundTripTime === 'number');
    assert.ok((sctp.pwtMessagesSent as number) >= 2 * s.perStream && (sctp.pwtMessagesReceived as number) >= 2 * s.perStream);
    assert.ok((sctp.pwtRetransmissions as number) > 0, `retransmissions counted after ${relay.toServer.dropped} drops toward the server`);
    return `${s.name}: ${checkers.length * s.perStream} messages intact; relay to server ${JSON.stringify(relay.toServer)}, to client ${JSON.stringify(relay.toClient)}; client sctp ${JSON.stringify(sctp)}`;
  } finally {
    client.close();
    server.close();
    relay?.close();
  }
}

const scenarios: Scenario[] = LONG
  ? [
      { name: '5 % loss, 5 % reorder, 2 % duplication', perStream: 5000, impairment: { loss: 0.05, reorder: 0.05, duplicate: 0.02 }, seed: 11 },
      { name: '10 % loss, 10 % reorder, 5 % duplication', perStream: 500, impairment: { loss: 0.1, reorder: 0.1, duplicate: 0.05 }, seed: 12 },
    ]
  : [{ name: '3 % loss, 3 % reorder, 2 % duplication', perStream: 500, impairment: { loss: 0.03, reorder: 0.03, duplicate: 0.02 }, seed: 7 }];

for (const s of scenarios) {
  test(`data channels through a lossy relay (${s.name}): ${s.perStream * 4} messages, each exactly once, intact, ordered where asked`, { timeout: (LONG ? 700 : 180) * 1000 }, async (t) => {
    const t0 = performance.now();
    t.diagnostic(await runScenario(s));
    t.diagnostic(`took ${Math.round(performance.now() - t0)} ms`);
  });
}
