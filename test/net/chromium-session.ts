// Chromium as a WHIP client for the impaired-network checks: the page makes the offer, this side
// POSTs it to our endpoint, optionally puts an ImpairmentRelay in front of our candidate (the
// answer's candidate port is rewritten to the relay's), and reads Chromium's own getStats().
import type { Page } from 'playwright-core';
import { SKIP_CHROMIUM, type ChromiumHandle } from '../interop/chromium.js';
import { ImpairmentRelay, type Impairment } from './impairment-relay.js';

/** Why the Chromium checks cannot run here, or false. */
export const NO_CHROMIUM: string | false = SKIP_CHROMIUM;

/** True when the long forms were asked for (`npm run test:net`). */
export const LONG = process.env.PWT_NET_LONG === '1';

/** One Chromium stats entry, as JSON. */
export type ChromiumStats = Record<string, unknown> & { type: string; kind?: string };

/** A connected Chromium session. */
export interface ChromiumSession {
  readonly page: Page;
  readonly relay: ImpairmentRelay | undefined;
  stats(): Promise<ChromiumStats[]>;
  /** Stops sending (replaceTrack(null) on every sender): nothing new leaves Chromium after this. */
  stopSending(): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link connectChromium}. */
export interface ChromiumSessionOptions {
  whipUrl: string;
  /** `sendonly` publishes; `sendrecv` also receives (the echo server sends back). */
  direction: 'sendonly' | 'sendrecv';
  video: { width: number; height: number };
  /**
   * Send a canvas of random blocks instead of the fake camera: incompressible, so the encoder uses
   * all the bitrate the estimator allows (the fake camera's simple picture needs ~0.3 Mbit/s).
   */
  noise?: boolean;
  audio: boolean;
  /** Impairments through a relay; none: direct. */
  relay?: { toServer: Impairment; toClient: Impairment; seed?: number };
}

/** Opens a page, publishes camera (+ microphone) by WHIP and waits until Chromium is connected. */
export async function connectChromium(browser: ChromiumHandle, o: ChromiumSessionOptions): Promise<ChromiumSession> {
  const page = await browser.context.newPage();
  // A page of the server's origin that runs nothing (the echo server's own pages connect by themselves).
  await page.goto(new URL('/pwt-net-blank', o.whipUrl).toString());
  const offer = String(await page.evaluate(`(async () => {
    let stream;
    if (${o.noise === true}) {
      const canvas = document.createElement('canvas');
      canvas.width = ${o.video.width};
      canvas.height = ${o.video.height};
      const ctx = canvas.getContext('2d');
      const small = document.createElement('canvas');
      small.width = ${Math.ceil(o.video.width / 4)};
      small.height = ${Math.ceil(o.video.height / 4)};
      const sctx = small.getContext('2d');
      const img = sctx.createImageData(small.width, small.height);
      const words = new Uint32Array(img.data.buffer);
      ctx.imageSmoothingEnabled = false;
      const draw = () => {
        for (let i = 0; i < words.length; i += 16384) crypto.getRandomValues(words.subarray(i, Math.min(words.length, i + 16384)));
        for (let i = 3; i < img.data.length; i += 4) img.data[i] = 255;
        sctx.putImageData(img, 0, 0);
        ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
      };
      draw();
      setInterval(draw, 33);
      stream = canvas.captureStream(30);
    } else {
      stream = await navigator.mediaDevices.getUserMedia({ audio: ${o.audio}, video: { width: ${o.video.width}, height: ${o.video.height}, frameRate: 30 } });
    }
    const pc = new RTCPeerConnection();
    window.pwtPc = pc;
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: '${o.direction}' });
    if (${o.direction === 'sendrecv'}) pc.ontrack = (e) => {
      const el = document.createElement(e.track.kind);
      el.srcObject = new MediaStream([e.track]);
      el.muted = true;
      el.autoplay = true;
      document.body.appendChild(el);
      void el.play().catch(() => {});
    };
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
      setTimeout(resolve, 3000);
    });
    return pc.localDescription.sdp;
  })()`));
  const res = await fetch(o.whipUrl, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer });
  if (res.status !== 201) throw new Error(`WHIP answered ${res.status}: ${await res.text()}`);
  let answer = await res.text();
  let relay: ImpairmentRelay | undefined;
  if (o.relay) {
    const m = /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host/.exec(answer);
    if (!m) throw new Error('the answer has no 127.0.0.1 host candidate to put the relay in front of');
    const port = Number(m[1]);
    relay = await ImpairmentRelay.start({ address: '127.0.0.1', port }, o.relay.toServer, o.relay.toClient, o.relay.seed ?? 1);
    answer = answer.replace(new RegExp(`(a=candidate:\\S+ 1 udp \\d+ 127\\.0\\.0\\.1 )${port}( typ host)`, 'g'), `$1${relay.port}$2`);
  }
  await page.evaluate(`(async () => {
    const pc = window.pwtPc;
    await pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(answer)} });
    await new Promise((resolve, reject) => {
      const check = () => {
        if (pc.connectionState === 'connected') resolve();
        if (pc.connectionState === 'failed') reject(new Error('connection failed'));
      };
      pc.addEventListener('connectionstatechange', check);
      check();
      setTimeout(() => reject(new Error('not connected in 20 s: ' + pc.connectionState)), 20000);
    });
  })()`);
  return {
    page,
    relay,
    stats: async () => (await page.evaluate(`(async () => [...(await window.pwtPc.getStats()).values()])()`)) as ChromiumStats[],
    stopSending: async () => {
      await page.evaluate(`(async () => { for (const s of window.pwtPc.getSenders()) await s.replaceTrack(null); })()`);
    },
    close: async () => {
      await page.evaluate('window.pwtPc.close()').catch(() => {});
      await page.close().catch(() => {});
      relay?.close();
    },
  };
}

/** The first stats entry of `type` (and `kind`). */
export function find(stats: readonly ChromiumStats[], type: string, kind?: string): ChromiumStats | undefined {
  return stats.find((s) => s.type === type && (kind === undefined || s.kind === kind));
}
