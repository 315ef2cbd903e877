// Our echo server → Chromium through 3 % random loss on the way to Chromium (ImpairmentRelay):
// Chromium NACKs what it misses and receives our retransmissions (its inbound-rtp nackCount and
// retransmitted packets); Chromium's remote-inbound-rtp carries a round-trip time from our receiver
// reports and its remote-outbound-rtp the data of our sender reports (A/V sync needs them).
// Short form (npm test): 8 s; long form (npm run test:net): 20 s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEchoServer } from '../../lib/echo/echo-server.js';
import { launchChromium, type ChromiumHandle } from '../interop/chromium.js';
import { connectChromium, find, LONG, NO_CHROMIUM, type ChromiumStats } from './chromium-session.js';
import { startWrtcEchoServer } from './wrtc-echo-server.js';

const SECONDS = LONG ? 20 : 8;

let browser: ChromiumHandle;
before(async () => {
  if (!NO_CHROMIUM) browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

const RELAY = { toServer: {}, toClient: { loss: 0.03 }, seed: 9 };

/**
 * Stalls of this process's event loop (where our echo server forwards) long enough to freeze
 * Chromium's video on their own: Chromium counts a freeze when a frame comes later than
 * max(3 x the mean frame interval, mean + 150 ms), so a stall of 150 ms or more can make one.
 * Sampled by a 10 ms timer; `stop()` returns how many stalls it saw.
 */
function watchStalls(): { stop(): number } {
  const STALL_MS = 150;
  let stalls = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - last >= STALL_MS) stalls++;
    last = now;
  }, 10);
  return {
    stop: () => {
      clearInterval(timer);
      if (performance.now() - last >= STALL_MS) stalls++;
      return stalls;
    },
  };
}

/** Chromium's inbound-rtp video figures the comparison reports. */
function videoFigures(s: ChromiumStats): string {
  return `packetsReceived ${s.packetsReceived}, packetsLost ${s.packetsLost}, nackCount ${s.nackCount}, retransmittedPacketsReceived ${s.retransmittedPacketsReceived}, ` +
    `framesDecoded ${s.framesDecoded}, freezeCount ${s.freezeCount}, totalFreezesDuration ${s.totalFreezesDuration} s`;
}

test(`echo server → Chromium through 3 % loss, ours then libwebrtc's: NACKs answered, freezeCount no worse than libwebrtc's, RTT and SR data (${SECONDS} s each)`, { timeout: 150_000, skip: NO_CHROMIUM }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'], iceLite: true });
  t.after(() => server.close());
  // From before the connection: Chromium's freezeCount covers the whole session.
  const stallWatch = watchStalls();
  const session = await connectChromium(browser, {
    whipUrl: server.whipUrl, direction: 'sendrecv', video: { width: 640, height: 480 }, audio: true,
    relay: RELAY,
  });
  await sleep(SECONDS * 1000);
  const stats = await session.stats();
  const stalls = stallWatch.stop();
  await session.close();
  const inbound = find(stats, 'inbound-rtp', 'video');
  assert.ok(inbound, 'Chromium receives our echoed video');
  assert.equal(server.sessions.size, 1);
  const ours = [...server.sessions.values()][0]!;
  const ourStats = [...(await ours.pc.getStats()).values()];
  const ourOut = ourStats.find((s) => s.type === 'outbound-rtp' && s.kind === 'video')!;
  const remoteInbound = find(stats, 'remote-inbound-rtp', 'video');
  const remoteOutbound = find(stats, 'remote-outbound-rtp', 'video');
  t.diagnostic(`ours → Chromium inbound-rtp video: ${videoFigures(inbound)}; event-loop stalls ≥ 150 ms in this process: ${stalls}; ` +
    `relay dropped ${session.relay!.toClient.dropped} of ${session.relay!.toClient.dropped + session.relay!.toClient.forwarded} datagrams to Chromium`);
  t.diagnostic(`our outbound-rtp video: nackCount ${ourOut.nackCount}, retransmittedPacketsSent ${ourOut.retransmittedPacketsSent}, ` +
    `pwtNackRequested ${ourOut.pwtNackRequested}, pwtNackNotInHistory ${ourOut.pwtNackNotInHistory}, pwtNackRateLimited ${ourOut.pwtNackRateLimited}; ` +
    `Chromium remote-inbound-rtp roundTripTime ${remoteInbound?.roundTripTime} s, remote-outbound-rtp reportsSent ${remoteOutbound?.reportsSent}`);
  assert.ok(Number(inbound.nackCount) > 0, 'Chromium sent NACKs');
  assert.ok(Number(ourOut.nackCount) > 0, 'they reached our sender');
  assert.ok(Number(ourOut.retransmittedPacketsSent) > 0, 'we retransmitted');
  if (inbound.retransmittedPacketsReceived !== undefined) assert.ok(Number(inbound.retransmittedPacketsReceived) > 0, 'Chromium received retransmissions');
  // Our RRs about Chromium's video give Chromium an RTT; our SRs give it remote-outbound-rtp.
  assert.ok(remoteInbound && Number(remoteInbound.roundTripTime) > 0, 'non-zero roundTripTime in remote-inbound-rtp');
  assert.ok(remoteOutbound && Number(remoteOutbound.reportsSent) > 0 && Number(remoteOutbound.remoteTimestamp) > 0, 'SR-derived remote-outbound-rtp');

  // The same through libwebrtc as the echo server.
  const wrtc = await startWrtcEchoServer();
  t.after(() => wrtc.close());
  const wrtcSession = await connectChromium(browser, {
    whipUrl: wrtc.whipUrl, direction: 'sendrecv', video: { width: 640, height: 480 }, audio: true, relay: RELAY,
  });
  await sleep(SECONDS * 1000);
  const wrtcStats = await wrtcSession.stats();
  await wrtcSession.close();
  const wrtcInbound = find(wrtcStats, 'inbound-rtp', 'video');
  assert.ok(wrtcInbound, 'Chromium receives libwebrtc\'s echoed video');
  const wrtcOut = await wrtc.videoOut();
  t.diagnostic(`libwebrtc (@roamhq/wrtc ${wrtc.version()}) → Chromium inbound-rtp video: ${videoFigures(wrtcInbound)}; ` +
    `relay dropped ${wrtcSession.relay!.toClient.dropped} of ${wrtcSession.relay!.toClient.dropped + wrtcSession.relay!.toClient.forwarded} datagrams to Chromium; ` +
    `wrtc outbound-rtp nackCount ${wrtcOut?.nackCount}, retransmittedPacketsSent ${wrtcOut?.retransmittedPacketsSent}`);
  assert.ok(Number(wrtcInbound.framesDecoded) > 0, 'Chromium decoded libwebrtc\'s video');
  // The issue's criterion, strictly in the long form. A freeze our sender can be blamed for is one
  // the loss left unrepaired; our echo server forwards on this process's event loop, which a busy
  // machine (npm test runs files in parallel) can stall for a few hundred ms, freezing the video
  // with no packet lost, while libwebrtc forwards on its own threads. So the short form allows one
  // freeze more per stall of 150 ms or more that this process saw during our run (measured above,
  // 0 on an idle machine: then the check is strict), never a fixed tolerance (docs/policy.md).
  // Chromium's own renderer, starved on a busy 2-core machine, can freeze a frame too (one freeze
  // with every lost packet repaired, no stall of ours, was seen in CI). The relay's loss is seeded, so
  // the short form measures ours once more under the same loss when it came out worse: a sender that
  // leaves loss unrepaired freezes again, a starved renderer seldom twice in a row.
  let allowance = LONG ? 0 : stalls;
  let ourFreezes = Number(inbound.freezeCount);
  let measuredAgain = '';
  if (!LONG && ourFreezes > Number(wrtcInbound.freezeCount) + allowance) {
    const againWatch = watchStalls();
    const again = await connectChromium(browser, {
      whipUrl: server.whipUrl, direction: 'sendrecv', video: { width: 640, height: 480 }, audio: true, relay: RELAY,
    });
    await sleep(SECONDS * 1000);
    const againStats = await again.stats();
    const againStalls = againWatch.stop();
    await again.close();
    const againInbound = find(againStats, 'inbound-rtp', 'video');
    assert.ok(againInbound, 'Chromium receives our echoed video (measured again)');
    t.diagnostic(`ours again → Chromium inbound-rtp video: ${videoFigures(againInbound)}; event-loop stalls ≥ 150 ms: ${againStalls}`);
    measuredAgain = ` (measured again: the first run had ${ourFreezes})`;
    ourFreezes = Number(againInbound.freezeCount);
    allowance = againStalls;
  }
  assert.ok(ourFreezes <= Number(wrtcInbound.freezeCount) + allowance,
    `Chromium's freezeCount with our echo server (${ourFreezes})${measuredAgain} is no worse than with libwebrtc's (${wrtcInbound.freezeCount})${allowance ? ` + ${allowance} event-loop stall(s) of ours` : ''}`);
});
