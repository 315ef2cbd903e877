// Passive ICE-TCP with a real browser (RFC 6544, RFC 4571 framing): our answerer has no UDP
// candidate at all, only the passive TCP candidate of a shared TcpMux port, so Chromium must open
// a TCP connection to it; Opus RTP flows both ways and a data channel carries messages both ways.
// Skipped without Chromium.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { launchChromiumPage, SKIP_CHROMIUM, NO_DNS, type ChromiumPage } from '../interop/chromium.js';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCDataChannel } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { TcpMux } from '../../lib/transport/source/tcp-mux.js';
import { within } from './peer-helpers.js';

const skip = SKIP_CHROMIUM;

const PAGE_SETUP = `
window.makePc = () => {
  const pc = new RTCPeerConnection();
  window.pc = pc;
  window.messages = [];
  return pc;
};
window.oscillatorTrack = () => {
  const ctx = new AudioContext();
  const osc = ctx.createOscillator();
  const dest = ctx.createMediaStreamDestination();
  osc.connect(dest);
  osc.start();
  return dest.stream.getAudioTracks()[0];
};
window.gathered = (pc) => new Promise((resolve) => {
  if (pc.iceGatheringState === 'complete') return resolve(pc.localDescription.sdp);
  pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') resolve(pc.localDescription.sdp); };
});
window.inboundPackets = async () => {
  let n = 0;
  (await window.pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp') n += s.packetsReceived; });
  return n;
};
window.selectedProtocol = async () => {
  const stats = await window.pc.getStats();
  let pairId;
  stats.forEach((s) => { if (s.type === 'transport') pairId = s.selectedCandidatePairId; });
  const pair = stats.get(pairId);
  return pair ? stats.get(pair.localCandidateId).protocol + '/' + stats.get(pair.remoteCandidateId).protocol : 'none';
};
`;

describe('Chromium connects to our passive ICE-TCP candidate (no UDP candidate)', { skip, timeout: 120_000 }, () => {
  let browser: ChromiumPage | undefined;
  let page: Page;
  let mux: TcpMux;

  before(async () => {
    mux = await TcpMux.listen({ address: '127.0.0.1' });
    browser = await launchChromiumPage('pwt-ice-tcp-chromium-', [
      '--autoplay-policy=no-user-gesture-required', '--disable-features=WebRtcHideLocalIpsWithMdns', NO_DNS,
    ]);
    page = browser.page;
    await page.evaluate(PAGE_SETUP);
  });

  after(async () => {
    await browser?.close();
    mux?.close();
  });

  it('Chromium offers audio + data channel; we answer with only `tcp ... tcptype passive`; media and messages both ways', async () => {
    const ours = new RTCPeerConnection({ hostAddresses: [], tcpMux: mux });
    try {
      const offer = (await page.evaluate(`(async () => {
        const pc = window.makePc();
        pc.addTransceiver(window.oscillatorTrack(), { direction: 'sendrecv' });
        const dc = pc.createDataChannel('over-tcp');
        window.dc = dc;
        dc.onmessage = (m) => window.messages.push(m.data);
        await pc.setLocalDescription();
        return window.gathered(pc);
      })()`)) as string;
      // Chromium's own TCP candidates (tcptype active, port 9), when it lists them, must not disturb anything.
      const remote = new Promise<MediaStreamTrack>((r) => ours.once('track', (e) => r(e.track)));
      const channel = new Promise<RTCDataChannel>((r) => ours.once('datachannel', (e) => r(e.channel)));
      await ours.setRemoteDescription({ type: 'offer', sdp: offer });
      const track = new LocalStreamTrack({ kind: 'audio' });
      ours.addTrack(track);
      await ours.setLocalDescription();
      const answer = ours.localDescription!.sdp;
      const candidates = answer.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
      assert.equal(candidates.length, 1, answer);
      assert.match(candidates[0]!, new RegExp(`^a=candidate:\\S+ 1 tcp \\d+ 127\\.0\\.0\\.1 ${mux.local.port} typ host tcptype passive$`));
      const applied = (await page.evaluate(`(async (sdp) => {
        try { await window.pc.setRemoteDescription({ type: 'answer', sdp }); return 'ok'; } catch (e) { return String(e); }
      })(${JSON.stringify(answer)})`)) as string;
      assert.equal(applied, 'ok');

      await within(ours.connected(), 20_000, 'our connection over TCP');
      assert.equal(await page.evaluate('window.selectedProtocol()'), 'tcp/tcp');
      const mine = await within(remote, 5000, 'track from Chromium');
      const packet = await within(mine.recv(), 10_000, 'RTP from Chromium');
      assert.ok(packet.payload.length > 0);
      // From here on every packet each way goes through the native TCP path: frames split and SRTP
      // unprotected in the read batch, sends protected and framed at flush (docs/udp.md "TCP framing").
      // (Packets in the same TCP read as DTLS's last flight, before SRTP was keyed, may take the JS path.)
      const srtpBefore = { ...ours.mediaTransport!.srtpCounters };
      const muxBefore = mux.stats;
      for (let k = 0; k < 20; k++) await within(mine.recv(), 10_000, `RTP ${k} from Chromium`);
      const sending = setInterval(() => track.send(new RtpPacket({ payload: Buffer.from([0xf8, 0xff, 0xfe]) })), 20);
      try {
        await within(
          (async () => {
            while ((await page.evaluate('window.inboundPackets()')) as number < 10) await new Promise((r) => setTimeout(r, 50));
          })(),
          10_000,
          'Chromium counts our RTP',
        );
      } finally {
        clearInterval(sending);
      }

      const dc = await within(channel, 10_000, 'data channel from Chromium');
      const got = new Promise<unknown>((r) => dc.once('message', (e) => r(e.data)));
      await page.evaluate(`window.dc.send('hello over tcp')`);
      assert.equal(await within(got, 5000, 'message from Chromium'), 'hello over tcp');
      dc.send('hello chromium');
      await within(
        (async () => {
          while (!((await page.evaluate('window.messages')) as string[]).includes('hello chromium')) await new Promise((r) => setTimeout(r, 50));
        })(),
        5000,
        'message to Chromium',
      );
      const s = mux.stats;
      const srtp = ours.mediaTransport!.srtpCounters;
      assert.equal(srtp.unprotectedInJs - srtpBefore.unprotectedInJs, 0, 'no media unprotected in JavaScript');
      assert.equal(srtp.protectedInJs - srtpBefore.protectedInJs, 0, 'no media protected in JavaScript');
      assert.ok(srtp.unprotectedNatively - srtpBefore.unprotectedNatively >= 20, JSON.stringify(srtp));
      assert.ok(srtp.protectedNatively - srtpBefore.protectedNatively >= 10, JSON.stringify(srtp));
      assert.ok(s.srtpUnprotected - muxBefore.srtpUnprotected >= 20 && s.srtpProtected - muxBefore.srtpProtected >= 10, JSON.stringify(s));
      assert.equal(s.framesSplitNatively, s.framesReceived);
      assert.equal(s.srtpRejected, 0);
      assert.equal(s.connectionsOpen, 1);
      assert.equal(s.routedByUfrag, 1);
      assert.ok(s.framesReceived > 10 && s.framesSent > 10, JSON.stringify(s));
    } finally {
      ours.close();
      await page.evaluate('window.pc && window.pc.close()');
    }
    // The socket's close completes on a later turn: wait for it, at most 2 s.
    for (let i = 0; i < 40 && mux.stats.connectionsOpen > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(mux.stats.connectionsOpen, 0, 'closing the connection closes its TCP connection');
    assert.equal(mux.stats.transports, 0);
  });
});
