// libwebrtc (@roamhq/wrtc, in a child process: test/interop/wrtc-peer.mjs) as an echo server behind a
// WHIP endpoint, the reference our echo server is compared with in chromium-echo-loss.test.ts.
// libwebrtc cannot send encoded frames it received: it decodes the browser's VP8 and encodes it
// again (sender.replaceTrack(receiver.track)), with its own NACK/RTX, PLI and pacing.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWhipHandler } from '../../lib/signaling/whip-server.js';

/** What wrtc reports about the video it sends back. */
export interface WrtcVideoOut {
  packetsSent: number;
  nackCount?: number;
  retransmittedPacketsSent?: number;
  framesEncoded?: number;
}

/** A running wrtc echo server. */
export interface WrtcEchoServer {
  readonly whipUrl: string;
  /** libwebrtc's version (the npm package's). */
  version(): string;
  /** wrtc's outbound-rtp for video. */
  videoOut(): Promise<WrtcVideoOut | undefined>;
  close(): Promise<void>;
}

/**
 * Keeps the candidate lines of an SDP that `keep` accepts (the others, and end-of-candidates,
 * are removed).
 */
function filterCandidates(sdp: string, keep: (line: string) => boolean): string {
  return sdp.split('\r\n').filter((l) => !(l.startsWith('a=candidate:') || l === 'a=end-of-candidates') || (l.startsWith('a=candidate:') && keep(l))).join('\r\n');
}

/**
 * Starts the wrtc child and a WHIP endpoint in front of it. The browser's candidates are removed
 * from the offer and only wrtc's loopback UDP candidate is kept in the answer, so the browser's
 * checks (through an ImpairmentRelay put in front of that candidate) are the only path: wrtc
 * learns the relay as a peer-reflexive candidate and never reaches the browser directly.
 */
export async function startWrtcEchoServer(): Promise<WrtcEchoServer> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [fileURLToPath(new URL('../interop/wrtc-peer.mjs', import.meta.url))], { stdio: 'pipe' });
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.(line));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const call = <T>(msg: Record<string, unknown>, timeoutMs: number): Promise<T> => new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wrtc child: no reply to ${String(msg.cmd)} in ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    waiting.push((line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as T);
    });
    child.stdin.write(`${JSON.stringify(msg)}\n`);
  });
  let version = 'unknown';
  const handler = createWhipHandler({
    offer: async (_id, offer) => {
      const a = await call<{ sdp?: string; version?: string; error?: string }>({ cmd: 'answer', sdp: filterCandidates(offer, () => false) }, 15_000);
      if (a.sdp === undefined) throw new Error(`wrtc did not answer: ${a.error ?? 'no sdp'}`);
      version = a.version ?? version;
      return filterCandidates(a.sdp, (l) => / 1 udp \d+ 127\.0\.0\.1 \d+ typ host/.test(l));
    },
    end: () => true,
  });
  // Anything but WHIP gets an empty page: the browser needs a page of this origin to run in.
  const http = createServer((req, res) => {
    void handler(req, res).then((handled) => {
      if (!handled) {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<!doctype html><title>wrtc echo</title>');
      }
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    whipUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}/whip`,
    version: () => version,
    videoOut: async () => (await call<{ videoOut?: WrtcVideoOut }>({ cmd: 'stats' }, 10_000)).videoOut,
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      child.kill('SIGKILL');
    },
  };
}
