// Interop with werift 0.24 (pure TypeScript WebRTC) over loopback: werift as WHIP client of our
// echo server (raw RTP audio+video and the data-channel test messages echoed back), and werift
// as the answerer behind a WHIP endpoint with our whip-client. werift's STUN goes to a loopback server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as werift from 'werift';
import { startEchoServer } from '../../lib/echo/echo-server.js';
import { messageBytes, messagePlan } from '../../lib/echo/message-plan.js';
import { runWhipClient } from '../../lib/cli/whip-client.js';
import { whipConnect } from '../../lib/signaling/whip-client.js';
import { startLoopbackStun, type LoopbackStun } from './loopback-stun.js';
import { captureSdp, recordResult } from './results.js';
import { renderMatrix } from './render-matrix.js';
import { closeServerPath, serverPath } from './server-path.js';
import { startWhipEndpoint } from './whip-endpoint.js';

const PEER = 'werift';
const VERSION = (JSON.parse(readFileSync(new URL('../../node_modules/werift/package.json', import.meta.url), 'utf8')) as { version: string }).version;
const SERVER_ROLE = 'our WHIP echo server ← werift client';
const CLIENT_ROLE = 'our whip-client → werift answerer';

let stun: LoopbackStun;
before(async () => {
  stun = await startLoopbackStun();
});
after(async () => {
  await stun?.close();
  await closeServerPath();
  renderMatrix();
});

function weriftPc(): werift.RTCPeerConnection {
  return new werift.RTCPeerConnection({
    iceServers: [{ urls: stun.url }],
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
  });
}

async function gathered(pc: werift.RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise<void>((resolve) => {
    pc.iceGatheringStateChange.subscribe((s) => {
      if (s === 'complete') resolve();
    });
  });
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)))]).finally(() => clearTimeout(timer));
}

/** Sends the 100 test messages on `dc` and counts those that come back intact, in order. */
async function messageRoundTrip(dc: werift.RTCDataChannel): Promise<{ sent: number; intact: number }> {
  const plan = messagePlan();
  const sent = plan.map((m, i) => ({ text: !m.binary, bytes: messageBytes(i, m.size) }));
  let received = 0;
  let intact = 0;
  const done = new Promise<void>((resolve) => {
    dc.onMessage.subscribe((data: string | Buffer) => {
      const want = sent[received++]!;
      if (want.text ? typeof data === 'string' && data === want.bytes.toString('latin1') : Buffer.isBuffer(data) && data.equals(want.bytes)) intact++;
      if (received === sent.length) resolve();
    });
  });
  for (const m of sent) dc.send(m.text ? m.bytes.toString('latin1') : m.bytes);
  await within(done, 20_000, 'werift: echoed messages');
  return { sent: sent.length, intact };
}

test('werift WHIP client ↔ our echo server: raw RTP audio and video echoed, data channel', { timeout: 60_000 }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'], ...(await serverPath()) });
  t.after(() => server.close());
  const pc = weriftPc();
  const audio = pc.addTransceiver('audio', { direction: 'sendrecv' });
  const video = pc.addTransceiver('video', { direction: 'sendrecv' });
  const dc = pc.createDataChannel('echo');
  // werift gives each m-section of its offer its own transport, and when the answer bundles them it
  // swaps the BUNDLE transport in without stopping the others: their ICE sockets outlive pc.close()
  // and kept the test process from exiting. Every transport it made is stopped after close().
  const transports = new Set<werift.RTCDtlsTransport>();
  t.after(async () => {
    await pc.close();
    await Promise.allSettled([...transports].map((tr) => tr.stop()));
  });
  const echoed = { audio: 0, video: 0 };
  pc.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe(() => {
      echoed[track.kind as 'audio' | 'video']++;
    });
  });
  const connected = new Promise<void>((resolve) => pc.connectionStateChange.subscribe((s) => s === 'connected' && resolve()));
  await pc.setLocalDescription(await pc.createOffer());
  for (const tr of pc.getTransceivers()) transports.add(tr.dtlsTransport);
  if (pc.sctpTransport) transports.add(pc.sctpTransport.dtlsTransport);
  await within(gathered(pc), 10_000, 'werift gathering');
  captureSdp(PEER, 'offer', pc.localDescription!.sdp);
  const session = await whipConnect(server.whipUrl, {
    createOffer: async () => ({ type: 'offer', sdp: pc.localDescription!.sdp }),
    setLocalDescription: async () => {},
    get localDescription() {
      return pc.localDescription ? { sdp: pc.localDescription.sdp } : null;
    },
    setRemoteDescription: async (d) => {
      await pc.setRemoteDescription(d);
    },
  });
  await within(connected, 15_000, 'werift connected');
  const opened = dc.readyState === 'open' ? Promise.resolve() : new Promise<void>((resolve) => dc.stateChanged.subscribe((s) => s === 'open' && resolve()));
  await within(opened, 10_000, 'data channel open');

  const sent = { audio: 0, video: 0 };
  for (let i = 0; i < 50; i++) {
    for (const [kind, tr, pt] of [['audio', audio, audio.codecs[0]!.payloadType], ['video', video, video.codecs[0]!.payloadType]] as const) {
      const header = new werift.RtpHeader({ payloadType: pt, sequenceNumber: 1000 + i, timestamp: i * 960, ssrc: tr.sender.ssrc, marker: true });
      await tr.sender.sendRtp(new werift.RtpPacket(header, Buffer.from(`${kind} ${i}`)));
      sent[kind]++;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const messages = await messageRoundTrip(dc);
  await new Promise((r) => setTimeout(r, 300));
  const status = await session.end();
  for (const kind of ['audio', 'video'] as const) {
    recordResult({ peer: PEER, version: VERSION, role: SERVER_ROLE, media: kind, variant: '', pass: echoed[kind] > 0,
      detail: `werift sent ${sent[kind]} raw RTP packets, received ${echoed[kind]} echoed` });
  }
  recordResult({ peer: PEER, version: VERSION, role: SERVER_ROLE, media: 'data', variant: '', pass: messages.intact === 100,
    detail: `${messages.intact}/${messages.sent} test messages back intact` });
  assert.ok(echoed.audio > 0 && echoed.video > 0, `echoed RTP: ${JSON.stringify(echoed)}`);
  assert.equal(messages.intact, 100);
  assert.equal(status, 200);
});

/** The kernel's UDP receive-buffer drop counter (system-wide, /proc/net/snmp), or undefined where unreadable. */
function udpRcvbufErrors(): number | undefined {
  try {
    const [names, values] = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const i = names!.split(/\s+/).indexOf('RcvbufErrors');
    return i > 0 ? Number(values!.split(/\s+/)[i]) : undefined;
  } catch {
    return undefined;
  }
}

test('our whip-client ↔ werift answerer: raw RTP looped back by werift, data channel', { timeout: 90_000 }, async (t) => {
  const pcs: werift.RTCPeerConnection[] = [];
  let weriftMessages = 0;
  t.after(async () => {
    for (const p of pcs) await p.close();
  });
  const endpoint = await startWhipEndpoint(async (offer) => {
    const pc = weriftPc();
    pcs.push(pc);
    pc.onDataChannel.subscribe((dc) =>
      dc.onMessage.subscribe((m: string | Buffer) => {
        weriftMessages++;
        dc.send(m);
      }),
    );
    pc.onTransceiverAdded.subscribe((tr) => {
      tr.setDirection('sendrecv');
      tr.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => void tr.sender.sendRtp(rtp)));
    });
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await pc.setLocalDescription(await pc.createAnswer());
    await within(gathered(pc), 10_000, 'werift gathering');
    captureSdp(PEER, 'answer-to-whip-client', pc.localDescription!.sdp);
    return pc.localDescription!.sdp;
  });
  t.after(() => endpoint.close());
  const dropsBefore = udpRcvbufErrors();
  const summary = await runWhipClient({
    url: endpoint.url, audio: true, video: true, datachannel: true, seconds: 3, peer: { hostAddresses: ['127.0.0.1'] },
    // The 2.7 MB each way take well under a second on an idle machine; werift and we share one
    // starved process under load (8 of 10 runs at load ~18 needed 10-13 s, no SCTP stall).
    messagesTimeoutMs: 40_000,
  });
  const dropsAfter = udpRcvbufErrors();
  for (const kind of ['audio', 'video'] as const) {
    recordResult({ peer: PEER, version: VERSION, role: CLIENT_ROLE, media: kind, variant: '', pass: summary.rtp[kind].received > 0,
      detail: `we sent ${summary.rtp[kind].sent} RTP packets, ${summary.rtp[kind].received} came back` });
  }
  recordResult({ peer: PEER, version: VERSION, role: CLIENT_ROLE, media: 'data', variant: '', pass: summary.messages.echoedIntact === 100,
    detail: `${summary.messages.echoedIntact}/${summary.messages.sent} test messages back intact` });
  // Which way a shortfall was: werift's count says whether our messages reached it; the kernel's
  // receive-buffer drops (system-wide, other processes count too) whether datagrams were lost.
  const context = [
    `werift received ${weriftMessages} of ${summary.messages.sent} messages and echoed them`,
    `UDP RcvbufErrors during the run (system-wide): ${dropsBefore === undefined || dropsAfter === undefined ? 'unreadable' : dropsAfter - dropsBefore}`,
    `our sctp-transport stats ${JSON.stringify(summary.sctp)}`,
  ].join('\n');
  assert.deepEqual(summary.errors, [], `${summary.errors.join('\n')}\n${context}`);
  assert.ok(summary.rtp.audio.received > 0 && summary.rtp.video.received > 0);
  assert.equal(summary.messages.echoedIntact, 100, `${summary.messages.echoedIntact} of 100 back intact\n${context}`);
});
