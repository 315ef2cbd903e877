// Closing against real peers (RFC 9260 section 9.1 ABORT, RFC 8831 section 6.7): when our
// RTCPeerConnection closes, the data channels of Chromium (playwright-core), werift and
// node-datachannel (libdatachannel, usrsctp) close; when Chromium or node-datachannel close, ours
// do (werift 0.24 sends neither an ABORT nor close_notify on close: docs/sctp.md "Closing"). Over
// loopback UDP; every wait is on the condition with a generous deadline. Chromium parts skip
// without /usr/bin/chromium.
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { launchChromiumPage, SKIP_CHROMIUM, NO_DNS, type ChromiumPage } from '../interop/chromium.js';
import * as werift from 'werift';
import nodeDataChannel from 'node-datachannel';
import { RTCPeerConnection, type RTCDataChannel } from '../../lib/peer/index.js';
import { within } from './peer-helpers.js';

const skipBrowser = SKIP_CHROMIUM;
/** Generous: a close takes one datagram on loopback, a loaded machine and a slow browser still get there. */
const CLOSE_DEADLINE_MS = 20_000;

// libdatachannel's threads keep the process alive until cleanup().
after(() => nodeDataChannel.cleanup());

function opened(channel: RTCDataChannel): Promise<void> {
  return channel.readyState === 'open' ? Promise.resolve() : new Promise((r) => channel.once('open', () => r()));
}

function closedEvent(channel: RTCDataChannel): Promise<void> {
  return channel.readyState === 'closed' ? Promise.resolve() : new Promise((r) => channel.once('close', () => r()));
}

function withoutCandidates(sdp: string): string {
  return sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates').join('\r\n');
}

describe('Chromium', { skip: skipBrowser, timeout: 120_000 }, () => {
  let browser: ChromiumPage | undefined;
  let page: Page;

  before(async () => {
    browser = await launchChromiumPage('pwt-close-chromium-', [
      NO_DNS, '--disable-features=WebRtcHideLocalIpsWithMdns',
    ]);
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
  });

  /** Chromium offers a data channel, we answer; resolves with our side of the channel, both open. */
  async function connect(ours: RTCPeerConnection): Promise<RTCDataChannel> {
    const offer = (await page.evaluate(`(async () => {
      const pc = new RTCPeerConnection();
      window.pc = pc;
      window.dcEvents = [];
      const dc = pc.createDataChannel('from-chromium');
      window.dc = dc;
      dc.onerror = () => window.dcEvents.push('error');
      dc.onclose = () => window.dcEvents.push('close');
      await pc.setLocalDescription();
      if (pc.iceGatheringState !== 'complete') {
        await new Promise((resolve) => { pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') resolve(); }; });
      }
      return pc.localDescription.sdp;
    })()`)) as string;
    const channel = new Promise<RTCDataChannel>((r) => ours.once('datachannel', (e) => r(e.channel)));
    await ours.setRemoteDescription({ type: 'offer', sdp: offer });
    await ours.setLocalDescription(await ours.createAnswer());
    await page.evaluate(`window.pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(ours.localDescription!.sdp)} })`);
    const mine = await within(channel, 20_000, 'the channel from Chromium');
    await within(opened(mine), 20_000, 'our channel open');
    await page.waitForFunction("window.dc.readyState === 'open'", undefined, { timeout: 20_000 });
    return mine;
  }

  it('we close: Chromium’s data channel closes', async () => {
    const ours = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    try {
      await connect(ours);
      ours.close();
      await page.waitForFunction("window.dc.readyState === 'closed'", undefined, { timeout: CLOSE_DEADLINE_MS });
      // Chromium fired 'close' (after an 'error' for the aborted association, as for any peer's abort).
      await page.waitForFunction("window.dcEvents.includes('close')", undefined, { timeout: CLOSE_DEADLINE_MS });
    } finally {
      ours.close();
      await page.evaluate('window.pc && window.pc.close()');
    }
  });

  it('Chromium closes: our data channel closes', async (t) => {
    const ours = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    try {
      const mine = await connect(ours);
      const closed = closedEvent(mine);
      await page.evaluate('window.pc.close()');
      await within(closed, CLOSE_DEADLINE_MS, 'our channel closes');
      assert.equal(mine.readyState, 'closed');
      assert.equal(ours.mediaTransport!.sctp!.association.state, 'closed');
      t.diagnostic(`our association: ${ours.mediaTransport!.sctp!.association.closeReason?.reason}`);
    } finally {
      ours.close();
    }
  });
});

function weriftPc(): werift.RTCPeerConnection {
  return new werift.RTCPeerConnection({ iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false });
}

async function weriftLocal(pc: werift.RTCPeerConnection): Promise<string> {
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && resolve()));
  }
  return pc.localDescription!.sdp;
}

/** We offer a channel, werift answers; resolves with both ends open. */
async function connectWerift(ours: RTCPeerConnection, theirs: werift.RTCPeerConnection): Promise<{ mine: RTCDataChannel; theirChannel: werift.RTCDataChannel }> {
  const mine = ours.createDataChannel('to-werift');
  const theirChannel = new Promise<werift.RTCDataChannel>((resolve) => theirs.onDataChannel.subscribe((dc) => resolve(dc)));
  await ours.setLocalDescription();
  await theirs.setRemoteDescription({ type: 'offer', sdp: ours.localDescription!.sdp });
  await theirs.setLocalDescription(await theirs.createAnswer());
  await ours.setRemoteDescription({ type: 'answer', sdp: await weriftLocal(theirs) });
  const dc = await within(theirChannel, 20_000, 'werift channel');
  await within(opened(mine), 20_000, 'our channel open');
  if (dc.readyState !== 'open') await within(new Promise<void>((r) => dc.stateChanged.subscribe((s) => s === 'open' && r())), 20_000, 'werift channel open');
  return { mine, theirChannel: dc };
}

test('werift: we close, its data channel closes', { timeout: 60_000 }, async () => {
  const ours = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const theirs = weriftPc();
  try {
    const { theirChannel } = await connectWerift(ours, theirs);
    const closed = new Promise<void>((r) => theirChannel.stateChanged.subscribe((s) => s === 'closed' && r()));
    ours.close();
    await within(closed, CLOSE_DEADLINE_MS, 'werift channel closes');
    assert.equal(theirChannel.readyState, 'closed');
  } finally {
    ours.close();
    await theirs.close();
  }
});

type NdcPeer = InstanceType<typeof nodeDataChannel.PeerConnection>;
type NdcChannel = ReturnType<NdcPeer['createDataChannel']>;

/** node-datachannel offers a channel, we answer (its candidates are learned from its checks). */
async function connectNdc(ours: RTCPeerConnection, ndc: NdcPeer): Promise<{ mine: RTCDataChannel; theirs: NdcChannel }> {
  const offer = new Promise<string>((resolve) => ndc.onLocalDescription((sdp, type) => type === 'offer' && resolve(sdp)));
  const theirs = ndc.createDataChannel('from-ndc');
  const theirOpen = theirs.isOpen() ? Promise.resolve() : new Promise<void>((resolve) => theirs.onOpen(() => resolve()));
  const channel = new Promise<RTCDataChannel>((r) => ours.once('datachannel', (e) => r(e.channel)));
  await ours.setRemoteDescription({ type: 'offer', sdp: withoutCandidates(await within(offer, 10_000, 'node-datachannel offer')) });
  await ours.setLocalDescription(await ours.createAnswer());
  ndc.setRemoteDescription(ours.localDescription!.sdp, 'answer');
  const mine = await within(channel, 20_000, 'the channel from node-datachannel');
  await within(Promise.all([opened(mine), theirOpen]), 20_000, 'channels open');
  return { mine, theirs };
}

test('node-datachannel: we close, its data channel closes', { timeout: 60_000 }, async () => {
  const ndc = new nodeDataChannel.PeerConnection('close-a', { iceServers: [], bindAddress: '127.0.0.1', enableIceUdpMux: false });
  const ours = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const { theirs } = await connectNdc(ours, ndc);
    const closed = new Promise<void>((r) => theirs.onClosed(() => r()));
    ours.close();
    await within(closed, CLOSE_DEADLINE_MS, 'node-datachannel channel closes');
    assert.equal(theirs.isOpen(), false);
  } finally {
    ours.close();
    ndc.close();
  }
});

test('node-datachannel: it closes, our data channel closes', { timeout: 60_000 }, async (t) => {
  const ndc = new nodeDataChannel.PeerConnection('close-b', { iceServers: [], bindAddress: '127.0.0.1', enableIceUdpMux: false });
  const ours = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const { mine } = await connectNdc(ours, ndc);
    const closed = closedEvent(mine);
    ndc.close();
    await within(closed, CLOSE_DEADLINE_MS, 'our channel closes');
    assert.equal(ours.mediaTransport!.sctp!.association.state, 'closed');
    t.diagnostic(`our association: ${ours.mediaTransport!.sctp!.association.closeReason?.reason}`);
  } finally {
    ours.close();
  }
});
