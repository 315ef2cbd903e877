// REMB towards a publisher from lib/sfu's engine (docs/sfu.md "RTCP per leg";
// draft-alvestrand-rmcat-remb-03), over real loopback sockets with our own peers: a publisher that
// negotiated goog-remb and abs-send-time and no transport-cc gets REMB packets naming its stream,
// computed from every forwarded packet's abs-send-time and arrival although the publisher
// connection's JavaScript never sees them; without the REMB module, goog-remb is not negotiated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCRtpTransceiver } from '../../../lib/peer/index.js';
import { defaultPolicyFactories, transportCcFeedbackPolicy } from '../../../lib/policy/default-policies.js';
import { rembPolicy, type RembPolicy } from '../../../lib/policy/remb-policy.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpReceiverEstimatedMaxBitrate } from '../../../lib/rtp/rtcp/receiver-estimated-max-bitrate.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { Router } from '../../../lib/sfu/index.js';
import { within } from '../../integration/peer-helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** The default modules without transport-cc feedback, plus REMB. */
const policies = () => [...defaultPolicyFactories().filter((f) => f.name !== transportCcFeedbackPolicy.name), rembPolicy({ startBitrate: 300_000 })];

async function connect(offerer: RTCPeerConnection, answerer: RTCPeerConnection): Promise<void> {
  await offerer.setLocalDescription(await offerer.createOffer());
  await answerer.setRemoteDescription(offerer.localDescription!);
  await answerer.setLocalDescription(await answerer.createAnswer());
  await offerer.setRemoteDescription(answerer.localDescription!);
  await within(Promise.all([offerer.connected(), answerer.connected()]), 15_000, 'connected');
}

test('router: a publisher that negotiated goog-remb (no transport-cc) gets REMB from the forwarded packets\' abs-send-time', { timeout: 60_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], rtpPolicies: policies() });
  const server = new RTCPeerConnection({ udpMux: mux, rtpPolicies: policies() });
  const subServer = new RTCPeerConnection({ udpMux: mux });
  const subClient = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const source = new LocalStreamTrack({ kind: 'video' });
    const sender = client.addTransceiver(source, { direction: 'sendonly' }).sender;
    const serverTransceiver = new Promise<RTCRtpTransceiver>((r) => server.once('track', (e) => r(e.transceiver)));
    await connect(client, server);
    const answer = server.localDescription!.sdp;
    assert.match(answer, /a=rtcp-fb:\d+ goog-remb/, 'goog-remb negotiated');
    assert.match(answer, /abs-send-time/);
    assert.doesNotMatch(answer, /transport-cc|transport-wide-cc/, 'no transport-cc');
    const transceiver = await within(serverTransceiver, 5000, 'publisher track');
    const producer = await router.produce(server, transceiver);

    const subTransceiver = subServer.addTransceiver(new LocalStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
    const subTrack = new Promise<MediaStreamTrack>((r) => subClient.once('track', (e) => r(e.track)));
    await connect(subServer, subClient);
    await router.consume(producer, subServer, subTransceiver);
    const track = await within(subTrack, 5000, 'subscriber track');
    let forwarded = 0;
    void (async () => {
      for await (const _ of track) forwarded++;
    })();

    const rembs: RtcpReceiverEstimatedMaxBitrate[] = [];
    sender.on('rtcp', (e) => {
      if (e.packet instanceof RtcpReceiverEstimatedMaxBitrate) rembs.push(e.packet);
    });
    // 30 frames per second of 1000-byte packets for 2 s; our sender writes abs-send-time.
    const PACKETS = 60;
    for (let i = 0; i < PACKETS; i++) {
      source.send(new RtpPacket({ timestamp: i * 3000, marker: true, payload: Buffer.alloc(1000, i) }));
      await sleep(33);
    }
    await within((async () => {
      while (forwarded < PACKETS) await sleep(10);
    })(), 10_000, 'every packet forwarded');
    const remb = server.transportPolicies.get('remb-generator') as RembPolicy;
    await within((async () => {
      while ((remb.generator?.stats.packets ?? 0) < PACKETS || !rembs.some((r) => r.ssrcs.includes(producer.ssrc))) await sleep(20);
    })(), 10_000, 'REMB naming the producer\'s SSRC');
    assert.equal(remb.generator!.stats.packets, PACKETS, 'every forwarded packet reached the REMB module, once');
    assert.equal(remb.generator!.stats.packetsWithoutSendTime, 0, 'each with its abs-send-time');
    assert.ok(rembs.every((r) => r.bitrate > 0));
    assert.equal(transceiver.receiver.streams.get(producer.ssrc)?.packetsReceived ?? 0, 0, "the publisher connection's JavaScript saw no packet");
    assert.equal(router.stats.jsDeliveries, 0);
  } finally {
    router.close();
    for (const pc of [client, server, subServer, subClient]) pc.close();
    mux.close();
  }
});

test('router: without the REMB module on the publisher connection goog-remb is not negotiated', { timeout: 30_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], rtpPolicies: policies() });
  const server = new RTCPeerConnection({ udpMux: mux });
  try {
    client.addTransceiver(new LocalStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
    await client.setLocalDescription(await client.createOffer());
    assert.match(client.localDescription!.sdp, /goog-remb/);
    await server.setRemoteDescription(client.localDescription!);
    await server.setLocalDescription(await server.createAnswer());
    assert.doesNotMatch(server.localDescription!.sdp, /goog-remb/, 'the answer offers only what its modules serve');
  } finally {
    client.close();
    server.close();
    mux.close();
  }
});
