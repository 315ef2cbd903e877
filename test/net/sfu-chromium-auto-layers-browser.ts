// The browser side of the Chromium automatic-layer test (test/net/sfu-chromium-auto-layers.test.ts),
// run in its own network namespace: headless Chromium opens the room page of `url` twice, a
// publisher (640x360, VP8 simulcast low/mid/high) and a viewer (a small single-layer camera of its
// own); the viewer turns on automatic layers for the publisher's video. Every second it prints the
// viewer's decoded width of that video, what the publisher's Chromium sends per layer (with the key
// frames it encoded and the PLIs it got), and the viewer's decode, loss and NACK/PLI counters. On
// `{type:'stop'}` (or stdin closed) it closes the browser, which removes its profile from /tmp,
// says `done` and exits; the test waits for that exit before it kills the child.
import type { Page } from 'playwright-core';
import { launchChromiumPage, type ChromiumPage } from '../interop/chromium.js';
import { childSignalling } from './child-signalling.js';

const [url, durationArg] = process.argv.slice(2);
const durationMs = Number(durationArg ?? 120_000);
let launched: Promise<ChromiumPage> | undefined;
/** Closes the browser once, whoever asks first (the stop message, stdin closed, the backstop). */
let closing: Promise<void> | undefined;
const closeBrowser = (): Promise<void> => (closing ??= (launched ?? Promise.reject(new Error('not launched'))).then((b) => b.close()).catch(() => {}));
const { say, next } = childSignalling(durationMs, closeBrowser);
const ROOM = 'auto-layers';

/** Set by the test's `{type:'stop'}`, whenever it comes (also while the pages still join). */
let stop = false;
void next().then(() => (stop = true));

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    if (stop) throw new Error(`${what}: stopped by the test`);
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const memberOf = (page: Page): Promise<string | undefined> =>
  page.evaluate('window.pwtRoom && window.pwtRoom.state === "connected" ? window.pwtRoom.member : undefined') as Promise<string | undefined>;

async function main(): Promise<void> {
  const origin = new URL(url!).origin;
  launched = launchChromiumPage('pwt-sfu-auto-', [
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required', `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${new URL(url!).hostname}`,
    // The server is on the namespace's veth address, not localhost: camera access needs a secure origin.
    `--unsafely-treat-insecure-origin-as-secure=${origin}`,
    // Chromium sends fewer simulcast layers for small captures unless this trial is off.
    '--force-fieldtrials=WebRTC-LegacySimulcastLayerLimit/Disabled/',
  ]);
  const browser = await launched;
  try {
    const publisher = browser.page;
    await publisher.goto(`${origin}/?room=${ROOM}`);
    const publisherId = await until('the publisher joined', 40_000, () => memberOf(publisher));
    const viewer = await browser.context.newPage();
    await viewer.goto(`${origin}/?room=${ROOM}&width=160&height=90&simulcast=0&temporal=0`);
    const viewerId = await until('the viewer joined', 40_000, () => memberOf(viewer));
    const width = async (): Promise<number> =>
      Number(await viewer.evaluate(`window.pwtRoom.remoteStats().then((r) => (r.find((s) => s.id === ${JSON.stringify(publisherId)}) || {}).frameWidth || 0)`));
    // What the viewer's Chromium says of the publisher's video: the counters that tell a switch that
    // never came (no key frame of the new layer) from one it did not decode.
    const received = async (): Promise<unknown> => viewer.evaluate(`(async () => { let v = {};
      for (const r of window.pwtRoom.remotes.values()) if (r.id === ${JSON.stringify(publisherId)}) (await r.pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') v = { frames: s.framesDecoded || 0, keyFrames: s.keyFramesDecoded || 0, dropped: s.framesDropped || 0,
          pli: s.pliCount || 0, nack: s.nackCount || 0, lost: s.packetsLost || 0, packets: s.packetsReceived || 0, height: s.frameHeight || 0 }; });
      return v; })()`);
    await until("the viewer decodes the publisher's video", 40_000, async () => ((await width()) > 0 ? true : undefined));
    await viewer.evaluate(`window.pwtRoom.setAuto(${JSON.stringify(publisherId)}, true)`);
    say({ type: 'ready', publisher: publisherId, viewer: viewerId });
    let last = new Map<string, number>();
    while (!stop) {
      await new Promise((r) => setTimeout(r, 1000));
      const layers = (await publisher.evaluate(`(async () => { const r = [];
        (await window.pwtRoom.pc.getStats()).forEach((s) => { if (s.type === 'outbound-rtp' && s.kind === 'video') r.push({ rid: s.rid, width: s.frameWidth || 0, bytesSent: s.bytesSent || 0, pli: s.pliCount || 0, keyFrames: s.keyFramesEncoded || 0 }); });
        return r; })()`)) as { rid: string; width: number; bytesSent: number; pli: number; keyFrames: number }[];
      const sent: Record<string, { width: number; kbps: number; pli: number; keyFrames: number }> = {};
      const now = new Map<string, number>();
      for (const l of layers) {
        now.set(l.rid, l.bytesSent);
        sent[l.rid] = { width: l.width, kbps: Math.round(((l.bytesSent - (last.get(l.rid) ?? l.bytesSent)) * 8) / 1000), pli: l.pli, keyFrames: l.keyFrames };
      }
      last = now;
      say({ type: 'sample', width: await width(), sent, received: await received() });
    }
  } finally {
    await closeBrowser();
  }
  say({ type: 'done' });
  process.exit(0);
}

main().catch(async (err: unknown) => {
  say({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) });
  await closeBrowser();
  process.exit(1);
});
