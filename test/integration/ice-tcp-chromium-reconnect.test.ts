// Chromium reconnects a reset ICE-TCP connection to our passive candidate (RFC 6544 §7.2, RFC 4571
// framing): the new connection is routed to the same transport by its ufrag, checked, nominated and
// selected within the grace the agent gives (docs/ice.md "ICE-TCP"), and the same DTLS session, SCTP
// association and SRTP contexts carry on, with no message lost on the reliable channel. Real Chromium,
// real TCP on loopback, a real reset (`ss -K`). Skipped without Chromium or where sockets cannot be reset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromiumPage, NO_DNS, SKIP_CHROMIUM } from '../interop/chromium.js';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCDataChannel } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { TcpMux } from '../../lib/transport/source/tcp-mux.js';
import { until, within } from './peer-helpers.js';
import { NO_TCP_RESET, resetTcp } from './tcp-reset.js';

const skip = SKIP_CHROMIUM || NO_TCP_RESET;

/** Messages each side sends every 20 ms, numbered: reliable and ordered, every one must arrive in order. */
const PAGE_SETUP = `
window.start = async () => {
  const pc = new RTCPeerConnection();
  window.pc = pc;
  window.got = [];
  window.sent = 0;
  window.dtlsStates = [];
  const ctx = new AudioContext();
  const osc = ctx.createOscillator();
  const dest = ctx.createMediaStreamDestination();
  osc.connect(dest);
  osc.start();
  pc.addTransceiver(dest.stream.getAudioTracks()[0], { direction: 'sendrecv' });
  const dc = pc.createDataChannel('reliable');
  window.dc = dc;
  dc.onmessage = (m) => window.got.push(m.data);
  dc.onclose = () => window.got.push('closed');
  await pc.setLocalDescription();
  await new Promise((r) => {
    if (pc.iceGatheringState === 'complete') r();
    pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') r(); };
  });
  return pc.localDescription.sdp;
};
window.sendEvery = () => { window.timer = setInterval(() => { if (window.dc.readyState === 'open') window.dc.send('c' + ++window.sent); }, 20); };
window.transport = async () => {
  const stats = await window.pc.getStats();
  let t;
  stats.forEach((s) => { if (s.type === 'transport') t = s; });
  const pair = t && stats.get(t.selectedCandidatePairId);
  let inbound = 0;
  stats.forEach((s) => { if (s.type === 'inbound-rtp') inbound += s.packetsReceived; });
  return {
    dtlsState: t && t.dtlsState,
    remoteCertificateId: t && t.remoteCertificateId,
    pairChanges: t && t.selectedCandidatePairChanges,
    protocol: pair ? stats.get(pair.localCandidateId).protocol : 'none',
    ice: window.pc.iceConnectionState,
    inbound,
  };
};
`;

interface ChromiumTransport { dtlsState: string; remoteCertificateId: string; pairChanges: number; protocol: string; ice: string; inbound: number }

/** Whether `got` is exactly `prefix1` … `prefix<n>`, in order. */
function inOrder(got: readonly string[], prefix: string, n: number): boolean {
  return got.length === n && got.every((m, i) => m === `${prefix}${i + 1}`);
}

test('Chromium reconnects a reset ICE-TCP connection within the grace: same ICE session and DTLS session, no message lost, SRTP both ways natively', { skip, timeout: 120_000 }, async () => {
  const mux = await TcpMux.listen({ address: '127.0.0.1' });
  const browser = await launchChromiumPage('pwt-tcp-reconnect-', [
    '--autoplay-policy=no-user-gesture-required', '--disable-features=WebRtcHideLocalIpsWithMdns', NO_DNS,
  ]);
  const page = browser.page;
  const ours = new RTCPeerConnection({ hostAddresses: [], tcpMux: mux });
  const iceStates: string[] = [];
  const pcStates: string[] = [];
  ours.on('iceconnectionstatechange', () => iceStates.push(`${ours.iceConnectionState}:${ours.mediaTransport?.ice.stateReason ?? ''}`));
  ours.on('connectionstatechange', () => pcStates.push(ours.connectionState));
  let sending: NodeJS.Timeout | undefined;
  try {
    await page.evaluate(PAGE_SETUP);
    const offer = (await page.evaluate('window.start()')) as string;
    const remoteTrack = new Promise<MediaStreamTrack>((r) => ours.once('track', (e) => r(e.track)));
    const channel = new Promise<RTCDataChannel>((r) => ours.once('datachannel', (e) => r(e.channel)));
    await ours.setRemoteDescription({ type: 'offer', sdp: offer });
    const track = new LocalStreamTrack({ kind: 'audio' });
    ours.addTrack(track);
    await ours.setLocalDescription();
    // Our only candidate is the passive TCP one: everything goes over the TCP connection.
    assert.deepEqual(ours.localDescription!.sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:')).map((l) => l.split(' ')[2]), ['tcp']);
    await page.evaluate(`window.pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(ours.localDescription!.sdp)} })`);
    await within(ours.connected(), 30_000, 'connected over ICE-TCP');
    const dc = await within(channel, 20_000, 'data channel from Chromium');
    const got: string[] = [];
    dc.on('message', (e) => got.push(String(e.data)));
    dc.on('close', () => got.push('closed'));
    await until(() => dc.readyState === 'open', 20_000, 'our channel open');
    const mine = await within(remoteTrack, 20_000, 'track from Chromium');
    let rtpReceived = 0;
    void (async () => {
      for await (const packet of mine) if (packet.payload.length > 0) rtpReceived++;
    })();

    // Both directions busy: numbered messages every 20 ms each way, Opus-sized RTP from us.
    let sent = 0;
    sending = setInterval(() => {
      if (dc.readyState === 'open') dc.send(`s${++sent}`);
      track.send(new RtpPacket({ payload: Buffer.from([0xf8, 0xff, 0xfe]) }));
    }, 20);
    await page.evaluate('window.sendEvery()');
    await until(() => got.length >= 10 && rtpReceived >= 10, 20_000, 'messages and RTP before the reset');

    const dtls = ours.mediaTransport!.dtls!;
    assert.equal(dtls.state, 'connected');
    const before = (await page.evaluate('window.transport()')) as ChromiumTransport;
    assert.equal(before.protocol, 'tcp');
    assert.equal(before.dtlsState, 'connected');
    const first = ours.mediaTransport!.selectedPair!;
    assert.equal(first.local.protocol, 'tcp');
    const srtpBefore = { ...ours.mediaTransport!.srtpCounters };
    iceStates.length = 0;

    // Reset Chromium's end of the connection (it sees an error; we get an RST).
    assert.ok(resetTcp(first.remoteAddress.port, mux.local.port), 'the connection was reset');
    await until(() => iceStates.includes('disconnected:tcp-connection-closed'), 20_000, 'ours disconnected by the reset');

    // Chromium opens a new connection from a new port; the port routes it to the same transport by
    // its ufrag, the new pair is checked, nominated and selected, and we are connected again.
    await until(() => ours.iceConnectionState === 'connected' || ours.iceConnectionState === 'completed', 30_000, 'ours connected again');
    const second = ours.mediaTransport!.selectedPair!;
    assert.equal(second.local.protocol, 'tcp');
    assert.notEqual(second.remoteAddress.port, first.remoteAddress.port);
    assert.equal(iceStates[0], 'disconnected:tcp-connection-closed');
    assert.ok(iceStates.slice(1).every((s) => s === 'connected:' || s === 'completed:'), iceStates.join(' '));
    assert.ok(!pcStates.includes('failed'), pcStates.join(' '));
    const s = mux.stats;
    // Every connection Chromium opened (the first, the new one) was routed by its first check's ufrag.
    assert.ok(s.connectionsAccepted >= 2, JSON.stringify(s));
    assert.equal(s.routedByUfrag, s.connectionsAccepted);
    assert.ok(s.connectionsOpen >= 1, JSON.stringify(s));
    assert.deepEqual(
      Object.entries(s.drops).filter(([reason, n]) => n > 0 && reason !== 'send-no-connection'),
      [],
      'nothing refused (only sends while no connection was up are dropped)',
    );

    // Everything carries on over the new connection: messages, and RTP both ways on the native route.
    const gotAtReconnect = got.length;
    const rtpAtReconnect = rtpReceived;
    await until(() => got.length >= gotAtReconnect + 25 && rtpReceived >= rtpAtReconnect + 25, 30_000, 'messages and RTP from Chromium after the reconnect');
    const inboundAtReconnect = ((await page.evaluate('window.transport()')) as ChromiumTransport).inbound;
    await within(
      (async () => {
        while (((await page.evaluate('window.transport()')) as ChromiumTransport).inbound < inboundAtReconnect + 25) await new Promise((r) => setTimeout(r, 50));
      })(),
      30_000,
      'Chromium counts our RTP after the reconnect',
    );
    clearInterval(sending);
    sending = undefined;
    await page.evaluate('clearInterval(window.timer)');
    const chromiumSent = (await page.evaluate('window.sent')) as number;
    await until(() => got.length >= chromiumSent, 30_000, 'every message from Chromium');
    assert.ok(inOrder(got, 'c', chromiumSent), `ours got ${got.length} of ${chromiumSent}: ${got.slice(0, 5).join(',')}…${got.slice(-5).join(',')}`);
    await within(
      (async () => {
        while (((await page.evaluate('window.got.length')) as number) < sent) await new Promise((r) => setTimeout(r, 50));
      })(),
      30_000,
      'every message to Chromium',
    );
    const theirs = (await page.evaluate('window.got')) as string[];
    assert.ok(inOrder(theirs, 's', sent), `Chromium got ${theirs.length} of ${sent}: ${theirs.slice(-5).join(',')}`);

    // The same DTLS session on both ends (no new handshake, the same certificate), SRTP natively.
    assert.equal(ours.mediaTransport!.dtls, dtls);
    assert.equal(dtls.state, 'connected');
    const after = (await page.evaluate('window.transport()')) as ChromiumTransport;
    assert.equal(after.dtlsState, 'connected');
    assert.equal(after.remoteCertificateId, before.remoteCertificateId);
    assert.equal(after.protocol, 'tcp');
    assert.ok(after.ice === 'connected' || after.ice === 'completed', after.ice);
    const srtp = ours.mediaTransport!.srtpCounters;
    assert.ok(srtp.unprotectedNatively - srtpBefore.unprotectedNatively >= 25, JSON.stringify(srtp));
    assert.ok(srtp.protectedNatively - srtpBefore.protectedNatively >= 25, JSON.stringify(srtp));
    assert.equal(dc.readyState, 'open');
  } finally {
    if (sending) clearInterval(sending);
    ours.close();
    await browser.close();
  }
  // Closing ours closes its TCP connection (gracefully, on a later turn).
  await until(() => mux.stats.connectionsOpen === 0, 10_000, 'the TCP connection closed');
  assert.equal(mux.stats.transports, 0);
  mux.close();
});
