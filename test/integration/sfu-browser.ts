// Chromium pages as SFU publishers and subscribers for lib/sfu tests: the page side (plain
// JavaScript evaluated in the page) and the server side (an RTCPeerConnection of ours on the
// router's UdpMux, offered or answered over page.evaluate, no signaling server).
import type { Page } from 'playwright-core';
import { LocalStreamTrack, RTCPeerConnection, type RTCRtpTransceiver } from '../../lib/peer/index.js';
import type { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { within } from './peer-helpers.js';

const PAGE_SETUP = `
window.pcs = [];
window.gathered = (pc) => new Promise((resolve) => {
  if (pc.iceGatheringState === 'complete') return resolve(pc.localDescription.sdp);
  pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') resolve(pc.localDescription.sdp); };
});
window.subscribe = async (offer) => {
  const pc = new RTCPeerConnection();
  window.pcs.push(pc);
  pc.ontrack = (e) => {
    const v = document.createElement('video');
    v.muted = true;
    v.autoplay = true;
    v.srcObject = new MediaStream([e.track]);
    document.body.appendChild(v);
    v.play().catch(() => {});
  };
  await pc.setRemoteDescription({ type: 'offer', sdp: offer });
  await pc.setLocalDescription();
  return window.gathered(pc);
};
// A moving canvas as the camera (about:blank is no secure context, so no getUserMedia).
window.canvasTrack = () => {
  const canvas = document.createElement('canvas');
  canvas.width = 320;
  canvas.height = 240;
  const g = canvas.getContext('2d');
  let n = 0;
  setInterval(() => { g.fillStyle = 'hsl(' + (n++ * 7) % 360 + ',80%,50%)'; g.fillRect(0, 0, 320, 240); g.fillStyle = '#000'; g.fillText(String(n), 10 + n % 280, 50); }, 33);
  return canvas.captureStream(30).getVideoTracks()[0];
};
window.publish = async () => {
  const pc = new RTCPeerConnection();
  window.pcs.push(pc);
  pc.addTransceiver(window.canvasTrack(), { direction: 'sendonly' });
  await pc.setLocalDescription();
  return window.gathered(pc);
};
window.answer = async (i, sdp) => {
  try { await window.pcs[i].setRemoteDescription({ type: 'answer', sdp }); return 'ok'; } catch (e) { return String(e); }
};
window.videoStats = async () => {
  const out = [];
  for (const pc of window.pcs) {
    let decoded = 0, width = 0, sent = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') { decoded += s.framesDecoded || 0; width = s.frameWidth || width; }
      if (s.type === 'outbound-rtp' && s.kind === 'video') sent += s.framesEncoded || 0;
    });
    out.push({ decoded, width, sent, state: pc.connectionState });
  }
  return out;
};
`;

/** What one page connection reports. */
export interface PageVideoStats {
  decoded: number;
  width: number;
  sent: number;
  state: string;
}

/** Installs the page helpers (once per page). */
export async function setUpSfuPage(page: Page): Promise<void> {
  await page.evaluate(PAGE_SETUP);
}

/** Per page connection, in creation order. */
export async function pageVideoStats(page: Page): Promise<PageVideoStats[]> {
  return (await page.evaluate('window.videoStats()')) as PageVideoStats[];
}

/** A server connection of ours on `mux` sending one video track to a new subscriber connection in `page`. */
export async function chromiumSubscriber(page: Page, mux: UdpMux, index: number): Promise<{ server: RTCPeerConnection; transceiver: RTCRtpTransceiver }> {
  const server = new RTCPeerConnection({ udpMux: mux });
  const transceiver = server.addTransceiver(new LocalStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
  await server.setLocalDescription(await server.createOffer());
  const answer = (await page.evaluate(`window.subscribe(${JSON.stringify(server.localDescription!.sdp)})`)) as string;
  await server.setRemoteDescription({ type: 'answer', sdp: answer });
  await within(server.connected(), 30_000, `Chromium subscriber ${index} connected`);
  return { server, transceiver };
}

/** A server connection of ours on `mux` receiving the video (a moving canvas) of a new publisher connection in `page`. */
export async function chromiumPublisher(page: Page, mux: UdpMux, index: number): Promise<{ server: RTCPeerConnection; transceiver: RTCRtpTransceiver }> {
  const offer = (await page.evaluate('window.publish()')) as string;
  const server = new RTCPeerConnection({ udpMux: mux });
  const track = new Promise<RTCRtpTransceiver>((r) => server.once('track', (e) => r(e.transceiver)));
  await server.setRemoteDescription({ type: 'offer', sdp: offer });
  await server.setLocalDescription(await server.createAnswer());
  const applied = (await page.evaluate(`window.answer(${index}, ${JSON.stringify(server.localDescription!.sdp)})`)) as string;
  if (applied !== 'ok') throw new Error(`Chromium refused our answer: ${applied}`);
  await within(server.connected(), 30_000, 'Chromium publisher connected');
  return { server, transceiver: await within(track, 10_000, 'publisher track') };
}

/** Polls the page until `check` holds for its connections' stats. */
export async function untilPage(page: Page, check: (s: PageVideoStats[]) => boolean, ms: number, what: string): Promise<PageVideoStats[]> {
  return within((async () => {
    for (;;) {
      const s = await pageVideoStats(page);
      if (check(s)) return s;
      await new Promise((r) => setTimeout(r, 200));
    }
  })(), ms, what);
}
