// Data-channel integrity against libdatachannel (node-datachannel, usrsctp) under loss, duplication
// and reordering (RFC 8831 sections 6.5-6.6): node-datachannel opens an ordered and an unordered
// reliable channel to our answerer through the loopback relay of datachannel-integrity.test.ts,
// and both sides send mixed messages at once; each must arrive exactly once, intact and of its
// kind, ordered ones in order.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import nodeDataChannel from 'node-datachannel';
import { RTCPeerConnection, type RTCDataChannel } from '../../lib/peer/index.js';
import { ImpairmentRelay } from '../net/impairment-relay.js';
import { IntegrityChecker, integrityPayload, integrityPlan } from '../integration/datachannel-integrity-plan.js';
import { within } from '../integration/peer-helpers.js';

type NdcChannel = ReturnType<InstanceType<typeof nodeDataChannel.PeerConnection>['createDataChannel']>;

const PER_STREAM = 250;

// libdatachannel's threads keep the process alive until cleanup().
after(() => nodeDataChannel.cleanup());

/** DTLS application_data records (content type 23, RFC 6347 section 4.1): the SCTP packets. */
const isSctpRecord = (d: Buffer): boolean => d[0] === 23;

function withoutCandidates(sdp: string): string {
  return sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates').join('\r\n');
}

/** Sends the plan on a node-datachannel channel, keeping at most ~1 MiB queued. */
async function ndcSendAll(ch: NdcChannel, tag: number): Promise<void> {
  const plan = integrityPlan(PER_STREAM, 7);
  ch.setBufferedAmountLowThreshold(256 * 1024);
  for (let i = 0; i < plan.length; i++) {
    if (ch.bufferedAmount() > 1024 * 1024) await new Promise<void>((resolve) => ch.onBufferedAmountLow(() => resolve()));
    const p = integrityPayload(tag, i, plan[i]!);
    if (typeof p === 'string') ch.sendMessage(p);
    else ch.sendMessageBinary(p);
  }
}

async function oursSendAll(ch: RTCDataChannel, tag: number): Promise<void> {
  const plan = integrityPlan(PER_STREAM, 7);
  ch.bufferedAmountLowThreshold = 256 * 1024;
  for (let i = 0; i < plan.length; i++) {
    if (ch.bufferedAmount > 1024 * 1024) await new Promise<void>((resolve) => ch.once('bufferedamountlow', () => resolve()));
    ch.send(integrityPayload(tag, i, plan[i]!));
  }
}

function received(checker: IntegrityChecker, subscribe: (f: (data: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => subscribe((data) => {
    checker.add(data instanceof ArrayBuffer ? Buffer.from(data) : data);
    if (checker.errors.length > 0) reject(new Error(checker.errors.join('; ')));
    else if (checker.complete) resolve();
  }));
}

test(`node-datachannel ↔ our answerer through 3 % loss, 3 % reorder, 2 % duplication: ${PER_STREAM * 4} messages, each exactly once, intact, ordered where asked`, { timeout: 180_000 }, async (t) => {
  const ndc = new nodeDataChannel.PeerConnection('integrity', { iceServers: [], bindAddress: '127.0.0.1', enableIceUdpMux: false, maxMessageSize: 262_144 });
  const server = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  let relay: ImpairmentRelay | undefined;
  try {
    const offer = new Promise<string>((resolve) => ndc.onLocalDescription((sdp, type) => type === 'offer' && resolve(sdp)));
    const channels = { ordered: ndc.createDataChannel('ordered'), unordered: ndc.createDataChannel('unordered', { unordered: true }) };
    const ndcOpen = Object.values(channels).map((c) => (c.isOpen() ? Promise.resolve() : new Promise<void>((resolve) => c.onOpen(() => resolve()))));
    const remote = new Map<string, RTCDataChannel>();
    const both = new Promise<void>((resolve) => server.on('datachannel', (e) => {
      remote.set(e.channel.label, e.channel);
      if (remote.size === 2) resolve();
    }));
    // The answerer gets none of node-datachannel's candidates, node-datachannel only the relay's.
    await server.setRemoteDescription({ type: 'offer', sdp: withoutCandidates(await within(offer, 10_000, 'node-datachannel offer')) });
    await server.setLocalDescription(await server.createAnswer());
    const answer = server.localDescription!.sdp;
    const m = /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host/.exec(answer);
    assert.ok(m, 'the answer has a 127.0.0.1 host candidate');
    relay = await ImpairmentRelay.start({ address: '127.0.0.1', port: Number(m[1]) }, { loss: 0.03, reorder: 0.03, duplicate: 0.02 }, { loss: 0.03, reorder: 0.03, duplicate: 0.02 }, { seed: 9, impairs: isSctpRecord });
    const relayed = withoutCandidates(answer).replace(/(a=mid:[^\r]*\r\n)/, `$1a=candidate:1 1 udp 2130706431 127.0.0.1 ${relay.port} typ host\r\n`);
    ndc.setRemoteDescription(relayed, 'answer');
    await within(Promise.all([server.connected(), ...ndcOpen, both]), 30_000, 'connected and channels open through the relay');

    const plan = integrityPlan(PER_STREAM, 7);
    const work: Promise<void>[] = [];
    const checkers: [string, IntegrityChecker][] = [];
    let tag = 0;
    for (const [label, ch] of Object.entries(channels)) {
      const ours = remote.get(label)!;
      ours.binaryType = 'nodebuffer';
      const ordered = label === 'ordered';
      assert.equal(ours.ordered, ordered);
      const toUs = new IntegrityChecker(plan, tag, ordered);
      checkers.push([`${label} node-datachannel→ours`, toUs]);
      work.push(received(toUs, (f) => ours.on('message', (e) => f(e.data))), ndcSendAll(ch, tag++));
      const toThem = new IntegrityChecker(plan, tag, ordered);
      checkers.push([`${label} ours→node-datachannel`, toThem]);
      work.push(received(toThem, (f) => ch.onMessage(f)), oursSendAll(ours, tag++));
    }
    try {
      await within(Promise.all(work), 150_000, 'all messages');
    } catch (error) {
      throw new Error(`${(error as Error).message} (${checkers.map(([n, c]) => `${n}: ${c.received}/${PER_STREAM}`).join(', ')}; relay ${JSON.stringify({ up: relay.toServer, down: relay.toClient })})`);
    }
    const sctp = [...(await server.getStats()).values()].find((e) => e.type === 'sctp-transport');
    t.diagnostic(`${PER_STREAM * 4} messages intact; relay to us ${JSON.stringify(relay.toServer)}, to node-datachannel ${JSON.stringify(relay.toClient)}; our sctp retransmissions ${String(sctp?.pwtRetransmissions)}, T3 ${String(sctp?.pwtT3Expirations)}`);
  } finally {
    ndc.close();
    server.close();
    relay?.close();
  }
});
