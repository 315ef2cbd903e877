// Interop with a real browser: Debian's Chromium (headless, via playwright-core) connects to our
// RTCPeerConnection over loopback — ICE, DTLS, SRTP and SCTP — in both offer/answer directions.
// RTP flows both ways (Chromium's Opus from a WebAudio oscillator; our packets show up in its
// inbound-rtp stats) and a data channel carries messages both ways. Skipped without Chromium.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { launchChromiumPage, SKIP_CHROMIUM, type ChromiumPage } from '../interop/chromium.js';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCDataChannel } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { RtcpReceiverEstimatedMaxBitrate } from '../../lib/rtp/rtcp/receiver-estimated-max-bitrate.js';
import { HeaderExtensionUri } from '../../lib/sdp/capabilities.js';
import { defaultCodecs, defaultHeaderExtensions } from '../../lib/sdp/default-capabilities.js';
import { within } from './peer-helpers.js';
import { assertStatsAgree, type PeerStats } from './stats-agreement.js';

const skip = SKIP_CHROMIUM;

// The browser side, evaluated in the page (plain JavaScript in a string keeps DOM types out of lib).
const PAGE_SETUP = `
window.log = [];
window.makePc = () => {
  const pc = new RTCPeerConnection();
  window.pc = pc;
  window.messages = [];
  pc.ondatachannel = (e) => { window.dc = e.channel; e.channel.onmessage = (m) => window.messages.push(m.data); };
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
window.canvasTrack = () => {
  const canvas = document.createElement('canvas');
  canvas.width = 1280;
  canvas.height = 720;
  const g = canvas.getContext('2d');
  let n = 0;
  setInterval(() => { g.fillStyle = 'hsl(' + (n++ * 7) % 360 + ',80%,50%)'; g.fillRect(0, 0, 1280, 720); g.fillStyle = '#000'; g.fillText(String(n), 10 + n % 1200, 50); }, 33);
  return canvas.captureStream(30).getVideoTracks()[0];
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
`;

describe('Chromium connects to our RTCPeerConnection', { skip, timeout: 120_000 }, () => {
  let browser: ChromiumPage | undefined;
  let page: Page;

  before(async () => {
    browser = await launchChromiumPage('pwt-peer-chromium-', [
      '--autoplay-policy=no-user-gesture-required', '--disable-features=WebRtcHideLocalIpsWithMdns',
    ]);
    page = browser.page;
    await page.evaluate(PAGE_SETUP);
  });

  after(async () => {
    await browser?.close();
  });

  async function exchangeMedia(ours: RTCPeerConnection, track: LocalStreamTrack, remote: Promise<MediaStreamTrack>): Promise<void> {
    await within(ours.connected(), 20_000, 'our connection');
    const mine = await within(remote, 5000, 'track from Chromium');
    const packet = await within(mine.recv(), 10_000, 'RTP from Chromium');
    assert.ok(packet.payload.length > 0);
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
  }

  it('Chromium offers audio + data channel, we answer; media and messages both ways', async () => {
    const ours = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    try {
      const offer = (await page.evaluate(`(async () => {
        const pc = window.makePc();
        pc.addTransceiver(window.oscillatorTrack(), { direction: 'sendrecv' });
        const dc = pc.createDataChannel('from-chromium');
        window.dc = dc;
        dc.onmessage = (m) => window.messages.push(m.data);
        await pc.setLocalDescription();
        return window.gathered(pc);
      })()`)) as string;
      const remote = new Promise<MediaStreamTrack>((r) => ours.once('track', (e) => r(e.track)));
      const channel = new Promise<RTCDataChannel>((r) => ours.once('datachannel', (e) => r(e.channel)));
      await ours.setRemoteDescription({ type: 'offer', sdp: offer });
      const track = new LocalStreamTrack({ kind: 'audio' });
      ours.addTrack(track);
      await ours.setLocalDescription();
      const applied = (await page.evaluate(`(async (sdp) => {
        try { await window.pc.setRemoteDescription({ type: 'answer', sdp }); return 'ok'; } catch (e) { return String(e); }
      })(${JSON.stringify(ours.localDescription!.sdp)})`)) as string;
      assert.equal(applied, 'ok');
      await exchangeMedia(ours, track, remote);

      const dc = await within(channel, 10_000, 'datachannel from Chromium');
      assert.equal(dc.label, 'from-chromium');
      const got = new Promise<unknown>((r) => dc.once('message', (e) => r(e.data)));
      await page.evaluate(`window.dc.send('hello from chromium')`);
      assert.equal(await within(got, 5000, 'message from Chromium'), 'hello from chromium');
      dc.send('hello chromium');
      await within(
        (async () => {
          while (!((await page.evaluate('window.messages')) as string[]).includes('hello chromium')) await new Promise((r) => setTimeout(r, 50));
        })(),
        5000,
        'message to Chromium',
      );
      assert.equal(await page.evaluate('window.pc.connectionState'), 'connected');
      // Chromium's getStats about the same DTLS association agrees with ours.
      const theirs = (await page.evaluate(`(async () => {
        const out = { transport: [], certificate: [] };
        (await window.pc.getStats()).forEach((s) => { if (s.type === 'transport' || s.type === 'certificate') out[s.type].push(s); });
        return out;
      })()`)) as PeerStats;
      assertStatsAgree(await ours.getStats(), theirs);
    } finally {
      ours.close();
      await page.evaluate('window.pc && window.pc.close()');
    }
  });

  it('Chromium sends three simulcast layers; each rid arrives on its own track', async () => {
    // Without transport-cc Chromium estimates bandwidth from our REMB (draft-alvestrand-rmcat-remb),
    // which this test sends generously so that every layer is switched on.
    const codecs = defaultCodecs('video').map((c) => ({ ...c, rtcpFeedback: c.rtcpFeedback.filter((f) => f.type !== 'transport-cc') }));
    const headerExtensions = defaultHeaderExtensions('video').filter((e) => e.uri !== HeaderExtensionUri.transportWideCc);
    const ours = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], codecs, headerExtensions });
    let remb: NodeJS.Timeout | undefined;
    try {
      const offer = (await page.evaluate(`(async () => {
        const pc = window.makePc();
        pc.addTransceiver(window.canvasTrack(), { direction: 'sendonly', sendEncodings: [
          { rid: 'q', scaleResolutionDownBy: 4 }, { rid: 'h', scaleResolutionDownBy: 2 }, { rid: 'f' } ] });
        await pc.setLocalDescription();
        return window.gathered(pc);
      })()`)) as string;
      const tracks = new Map<string, MediaStreamTrack>();
      const all = new Promise<void>((resolve) => {
        ours.on('track', (e) => {
          tracks.set(e.track.rid ?? '-', e.track);
          if (tracks.size === 3) resolve();
        });
      });
      await ours.setRemoteDescription({ type: 'offer', sdp: offer });
      await ours.setLocalDescription();
      assert.match(ours.localDescription!.sdp, /a=simulcast:recv q;h;f/);
      const applied = (await page.evaluate(`(async (sdp) => {
        try { await window.pc.setRemoteDescription({ type: 'answer', sdp }); return 'ok'; } catch (e) { return String(e); }
      })(${JSON.stringify(ours.localDescription!.sdp)})`)) as string;
      assert.equal(applied, 'ok');
      await within(ours.connected(), 20_000, 'connected');
      await within(all, 5000, 'three track events');
      const receiverSide = ours.getTransceivers()[0]!;
      remb = setInterval(() => {
        const ssrcs = [...receiverSide.receiver.streams.keys()];
        receiverSide.sender.sendRtcp([new RtcpReceiverEstimatedMaxBitrate(receiverSide.sender.ssrc, 10_000_000, ssrcs.length > 0 ? ssrcs : [1])]);
      }, 100);
      assert.deepEqual([...tracks.keys()].sort(), ['f', 'h', 'q']);
      const ssrcs = new Set<number>();
      for (const rid of ['q', 'h', 'f']) {
        const p = await within(tracks.get(rid)!.recv(), 15_000, `layer ${rid}`);
        ssrcs.add(p.ssrc!);
      }
      assert.equal(ssrcs.size, 3, 'each layer has its own SSRC');
    } finally {
      clearInterval(remb);
      ours.close();
      await page.evaluate('window.pc && window.pc.close()');
    }
  });

  it('we offer audio + data channel, Chromium answers; media and messages both ways', async () => {
    const ours = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    try {
      const track = new LocalStreamTrack({ kind: 'audio' });
      ours.addTransceiver(track);
      const channel = ours.createDataChannel('from-us');
      const remote = new Promise<MediaStreamTrack>((r) => ours.once('track', (e) => r(e.track)));
      await ours.setLocalDescription();
      const answer = (await page.evaluate(`(async (sdp) => {
        const pc = window.makePc();
        await pc.setRemoteDescription({ type: 'offer', sdp });
        const t = pc.getTransceivers()[0];
        t.direction = 'sendrecv';
        await t.sender.replaceTrack(window.oscillatorTrack());
        await pc.setLocalDescription();
        return window.gathered(pc);
      })(${JSON.stringify(ours.localDescription!.sdp)})`)) as string;
      await ours.setRemoteDescription({ type: 'answer', sdp: answer });
      await exchangeMedia(ours, track, remote);

      if (channel.readyState !== 'open') await within(new Promise((r) => channel.once('open', r)), 10_000, 'open');
      channel.send('hi chromium');
      await within(
        (async () => {
          while (!((await page.evaluate('window.messages')) as string[]).includes('hi chromium')) await new Promise((r) => setTimeout(r, 50));
        })(),
        5000,
        'message to Chromium',
      );
      const got = new Promise<unknown>((r) => channel.once('message', (e) => r(e.data)));
      await page.evaluate(`window.dc.send('hi ours')`);
      assert.equal(await within(got, 5000, 'message from Chromium'), 'hi ours');
    } finally {
      ours.close();
      await page.evaluate('window.pc && window.pc.close()');
    }
  });
});
