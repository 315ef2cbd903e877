// A Chromium viewer under automatic layer selection (docs/sfu.md "Automatic layer selection") behind a
// real `tbf` rate limit: the `sfu` room server in one network namespace, headless Chromium in another
// (a simulcast publisher page, 640x360 in three layers, and a viewer page), joined by veth; the
// server's egress towards the browsers is the bottleneck. With the link open the viewer decodes the
// top layer; limited between the publisher's top and middle layers (measured from its Chromium), the
// server moves the viewer down and its decoded width drops; lifted, the width goes back up. Every step
// waits for a condition (bounded, generous); nothing asserts a duration. Skipped, with the reason,
// where namespaces cannot be made (not root, no `ip`/`tc`) or Chromium is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { NO_CHROMIUM } from './chromium-session.js';
import { createVethPair, deleteVethPair, sh } from './veth-pair.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
// Names unique to this run (several checkouts may run this file at once); interface names stay
// within 15 characters (the last three digits of the pid).
const RUN = String(process.pid);
const PAIR = {
  nsA: `sfutcp-srv-${RUN}`, nsB: `sfutcp-web-${RUN}`,
  ifA: `sfutcp-a${process.pid % 1000}`, ifB: `sfutcp-b${process.pid % 1000}`,
  addrA: '10.215.0.1', addrB: '10.215.0.2',
};
const BUDGET_MS = 240_000;

function setRate(rate: string, verb: 'add' | 'change' = 'change'): void {
  sh(['ip', 'netns', 'exec', PAIR.nsA, 'tc', 'qdisc', verb, 'dev', PAIR.ifA, 'root', 'tbf', 'rate', rate, 'burst', '16kb', 'latency', '300ms']);
}

interface Message {
  type: string;
  url?: string;
  message?: string;
  publisher?: string;
  viewer?: string;
  from?: string;
  spatialLayer?: number | null;
  target?: number;
  reason?: string;
  width?: number;
  sent?: Record<string, { width: number; kbps: number }>;
  jsDeliveries?: number;
}

/** Lines of a child as messages, with bounded waits for one that meets a condition. */
class Channel {
  readonly log: Message[] = [];
  private readonly waiters: { cond: (m: Message) => boolean; resolve: (m: Message | undefined) => void }[] = [];
  failure: Error | undefined;

  constructor(readonly name: string, readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      let m: Message;
      try {
        m = JSON.parse(l) as Message;
      } catch {
        return;
      }
      if (m.type === 'error') this.fail(new Error(`${name}: ${m.message}`));
      this.log.push(m);
      for (const w of [...this.waiters]) {
        if (w.cond(m)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    child.on('exit', (code) => this.fail(new Error(`${name} exited with ${code}`)));
  }

  fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiters.splice(0)) w.resolve(undefined);
  }

  /** The first message from `since` on that meets `cond`, within `ms`. */
  async waitFor(what: string, cond: (m: Message) => boolean, ms: number, since = 0, other?: Channel): Promise<Message> {
    const seen = this.log.slice(since).find(cond);
    if (seen) return seen;
    let timer: NodeJS.Timeout | undefined;
    const found = await new Promise<Message | undefined>((resolve) => {
      this.waiters.push({ cond, resolve });
      timer = setTimeout(() => resolve(undefined), ms);
    });
    clearTimeout(timer);
    const failure = this.failure ?? other?.failure;
    if (failure) throw failure;
    if (!found) {
      const recent = (c: Channel): string => c.log.filter((m) => m.type !== 'status').slice(-8).map((m) => JSON.stringify(m)).join('\n');
      throw new Error(`${what}: not within ${ms} ms; last of ${this.name}:\n${recent(this)}${other ? `\nlast of ${other.name}:\n${recent(other)}` : ''}`);
    }
    return found;
  }

  send(m: object): void {
    this.child.stdin?.write(`${JSON.stringify(m)}\n`);
  }

  /**
   * Sends `{type:'stop'}` and waits (at most `graceMs`) for the child to exit by itself: the browser
   * child closes its Chromium first, which removes the profile from /tmp. Only then is it killed.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.child.removeAllListeners('exit');
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<boolean>((r) => this.child.once('exit', () => r(true)));
      this.send({ type: 'stop' });
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([exited, new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs)))]);
      clearTimeout(timer);
      if (!inTime) process.stderr.write(`${this.name} child did not exit within ${graceMs} ms of the stop message; killed\n`);
    }
    this.child.stdin?.end();
    this.child.kill();
  }
}

function child(name: string, ns: string, file: string, args: string[]): Channel {
  return new Channel(name, spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(here, file), ...args, String(BUDGET_MS)], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  }));
}

test('sfu: a Chromium viewer with automatic layers behind tbf is moved down a layer (its decoded width drops) and back up when the limit is lifted', { skip: NO_CHROMIUM, timeout: BUDGET_MS + 60_000 }, async (t) => {
  const reason = createVethPair(PAIR);
  if (reason !== undefined) {
    t.skip(`skipped: ${reason}`);
    return;
  }
  let server: Channel | undefined;
  let browser: Channel | undefined;
  try {
    setRate('100mbit', 'add');
    server = child('server', PAIR.nsA, 'sfu-chromium-auto-layers-server.ts', [PAIR.addrA]);
    const url = (await server.waitFor('the room server listens', (m) => m.type === 'url', 30_000)).url!;
    browser = child('browser', PAIR.nsB, 'sfu-chromium-auto-layers-browser.ts', [url]);
    const ready = await browser.waitFor('both pages joined, the viewer decodes the publisher', (m) => m.type === 'ready', 120_000, 0, server);
    const isViewer = (m: Message): boolean => m.viewer === ready.viewer && m.from === ready.publisher;

    // Open link: the viewer gets the top layer at the width the publisher encodes it.
    await server.waitFor('the top layer sent to the viewer', (m) => m.type === 'status' && isViewer(m) && m.spatialLayer === 2, 60_000, 0, browser);
    const top = await browser.waitFor('the viewer decodes the top layer', (m) => m.type === 'sample' && (m.width ?? 0) > 0 && m.width === m.sent?.high?.width, 60_000, 0, server);
    const topWidth = top.width!;
    // What the publisher's layers take now (the mean of five samples from here), for a limit between them.
    const measured = (m: Message): boolean => m.type === 'sample' && (m.sent?.high?.kbps ?? 0) > 0 && (m.sent?.mid?.kbps ?? 0) > 0;
    const from = browser.log.indexOf(top);
    let count = 0;
    await browser.waitFor('five samples of the layers\' bitrates', (m) => measured(m) && ++count >= 5, 60_000, from + 1, server);
    const samples = browser.log.slice(from + 1).filter(measured).slice(0, 5);
    const mean = (rid: 'mid' | 'high'): number => samples.reduce((n, m) => n + m.sent![rid]!.kbps, 0) / samples.length;
    const high = mean('high');
    const mid = mean('mid');
    // Audio (both ways on this link) and the viewer's own small video ride on it too; the headers add more.
    const limitKbps = Math.max(120, Math.round((mid + high) / 2 + 40));
    t.diagnostic(`publisher layers: mid ${mid.toFixed(0)} kbit/s, high ${high.toFixed(0)} kbit/s; decoded top ${topWidth} px; limit ${limitKbps} kbit/s`);
    assert.ok(high > mid, `the top layer takes more than the middle one (${high.toFixed(0)} vs ${mid.toFixed(0)} kbit/s)`);

    const limitedServer = server.log.length;
    const limitedBrowser = browser.log.length;
    setRate(`${limitKbps}kbit`);
    // For the estimate or for loss (a move because Chromium stopped a layer would prove nothing here).
    const down = await server.waitFor('the server moves the viewer below the top layer for the estimate or loss',
      (m) => m.type === 'target' && isViewer(m) && (m.spatialLayer ?? 2) < 2 && (m.reason === 'estimate' || m.reason === 'loss'), 90_000, limitedServer, browser);
    t.diagnostic(`moved to layer ${down.spatialLayer} (${down.reason})`);
    // Below the width the publisher encodes its top layer at in the same sample (Chromium may scale its layers under CPU load).
    const belowTop = (m: Message): boolean => (m.width ?? 0) > 0 && m.width! < (m.sent?.high?.width || topWidth);
    const low = await browser.waitFor('the decoded width drops', (m) => m.type === 'sample' && belowTop(m), 60_000, limitedBrowser, server);

    const liftedServer = server.log.length;
    const liftedBrowser = browser.log.length;
    setRate('100mbit');
    await server.waitFor('the server moves the viewer back to the top layer', (m) => m.type === 'status' && isViewer(m) && m.spatialLayer === 2, 120_000, liftedServer, browser);
    const again = await browser.waitFor('the decoded width goes back up to the top layer\'s', (m) => m.type === 'sample' && (m.width ?? 0) > low.width! && m.width === m.sent?.high?.width, 60_000, liftedBrowser, server);
    t.diagnostic(`decoded width ${topWidth} → ${low.width} under ${limitKbps} kbit/s → ${again.width} lifted`);
    const ups = server.log.slice(liftedServer).filter((m) => m.type === 'target' && isViewer(m));
    assert.ok(ups.some((m) => m.reason === 'estimate'), `the climb came from the estimate: ${JSON.stringify(ups)}`);

    server.send({ type: 'stop' });
    const done = await server.waitFor('the server closed', (m) => m.type === 'done', 30_000);
    assert.equal(done.jsDeliveries, 0, 'no JavaScript per forwarded packet');
  } finally {
    await Promise.all([browser?.stop(), server?.stop()]);
    deleteVethPair(PAIR);
  }
});
