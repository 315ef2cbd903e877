// Chromium (Debian's, via playwright-core) judges our SDP: it applies our answers (incl. simulcast) and
// answers our offers (RFC 8843 §6 bundle-only too). Only SDP is exchanged; skipped without Chromium.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { launchChromiumPage, SKIP_CHROMIUM, NO_DNS, type ChromiumPage } from '../../interop/chromium.js';
import {
  createAnswer,
  createOffer,
  HeaderExtensionUri,
  parseSdp,
  serializeSdp,
  type LocalTransceiverDescription,
} from '../../../lib/sdp/index.js';
import { assertValidAnswer, localTransport, SESSION } from './helpers.js';


/** The slice of the browser's RTCPeerConnection these tests call (lib has no DOM types). */
interface BrowserPc {
  addTransceiver(kind: string, init?: { direction?: string; sendEncodings?: Array<{ rid?: string; scaleResolutionDownBy?: number }> }): unknown;
  createDataChannel(label: string): unknown;
  createOffer(): Promise<{ type: 'offer'; sdp?: string }>;
  createAnswer(): Promise<{ type: 'answer'; sdp?: string }>;
  setLocalDescription(d: { type: string; sdp?: string }): Promise<void>;
  setRemoteDescription(d: { type: string; sdp: string }): Promise<void>;
  getTransceivers(): Array<{ currentDirection: string | null }>;
  getSenders(): Array<{ getParameters(): { encodings: Array<{ rid?: string }> } }>;
  close(): void;
}
/** The page's global object as these tests use it. */
interface BrowserGlobal {
  RTCPeerConnection: new () => BrowserPc;
  pc?: BrowserPc;
  pc2?: BrowserPc;
}
const skip = SKIP_CHROMIUM;

const SENDERS: LocalTransceiverDescription[] = [
  { mid: '0', kind: 'audio', direction: 'sendrecv', sender: { cname: 'cn', ssrc: 11, msids: [{ stream: 'st', track: 'a' }] } },
  { mid: '1', kind: 'video', direction: 'sendrecv', sender: { cname: 'cn', ssrc: 22, rtxSsrc: 23, msids: [{ stream: 'st', track: 'v' }] } },
];

describe('Chromium accepts our SDP', { skip, timeout: 90_000 }, () => {
  let browser: ChromiumPage | undefined;
  let page: Page;

  before(async () => {
    browser = await launchChromiumPage('pwt-sdp-chromium-', [
      NO_DNS,
    ]);
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
  });

  it('our answer to its offer (audio, video, data channel) is applied; both sides sendrecv', async () => {
    const offerSdp = await page.evaluate(async () => {
      const g = globalThis as unknown as BrowserGlobal;
      const pc = new g.RTCPeerConnection();
      g.pc = pc;
      pc.addTransceiver('audio');
      pc.addTransceiver('video');
      pc.createDataChannel('d');
      const o = await pc.createOffer();
      await pc.setLocalDescription(o);
      return o.sdp!;
    });
    const offer = parseSdp(offerSdp);
    const answer = createAnswer(offer, { session: SESSION, transport: localTransport(), media: { '0': SENDERS[0]!, '1': SENDERS[1]! } });
    assertValidAnswer(offer, answer);
    const result = await page.evaluate(async (sdp) => {
      const pc = (globalThis as unknown as BrowserGlobal).pc!;
      try {
        await pc.setRemoteDescription({ type: 'answer', sdp });
        return `ok ${pc.getTransceivers().map((t) => t.currentDirection).join(',')}`;
      } catch (e) {
        return `error ${String(e)}`;
      }
    }, serializeSdp(answer));
    assert.equal(result, 'ok sendrecv,sendrecv');
  });

  it('negative control: the same answer with one extmap id naming two URIs in the BUNDLE group is refused', async () => {
    const offerSdp = await page.evaluate(async () => {
      const g = globalThis as unknown as BrowserGlobal;
      const pc = new g.RTCPeerConnection();
      g.pc = pc;
      pc.addTransceiver('audio');
      pc.addTransceiver('video');
      const o = await pc.createOffer();
      await pc.setLocalDescription(o);
      return o.sdp!;
    });
    const answer = createAnswer(parseSdp(offerSdp), { session: SESSION, transport: localTransport() });
    const audioLevel = answer.media[0]!.extmaps.find((e) => e.uri === HeaderExtensionUri.audioLevel)!;
    answer.media[1]!.extmaps.find((e) => e.uri === HeaderExtensionUri.absSendTime)!.id = audioLevel.id;
    const result = await page.evaluate(async (sdp) => {
      try {
        await (globalThis as unknown as BrowserGlobal).pc!.setRemoteDescription({ type: 'answer', sdp });
        return 'ok';
      } catch (e) {
        return `error ${String(e)}`;
      }
    }, serializeSdp(answer));
    assert.match(result, /^error/);
  });

  it('our answer receiving its simulcast (3 rids) is applied', async () => {
    const offerSdp = await page.evaluate(async () => {
      const g = globalThis as unknown as BrowserGlobal;
      const pc = new g.RTCPeerConnection();
      g.pc2 = pc;
      pc.addTransceiver('video', { direction: 'sendonly', sendEncodings: [{ rid: 'f' }, { rid: 'h', scaleResolutionDownBy: 2 }, { rid: 'q', scaleResolutionDownBy: 4 }] });
      const o = await pc.createOffer();
      await pc.setLocalDescription(o);
      return o.sdp!;
    });
    const offer = parseSdp(offerSdp);
    assert.deepEqual(offer.media[0]!.rids.map((r) => `${r.id} ${r.direction}`), ['f send', 'h send', 'q send']);
    const answer = createAnswer(offer, { session: SESSION, transport: localTransport() });
    assertValidAnswer(offer, answer);
    const video = answer.media[0]!;
    assert.deepEqual(video.simulcast?.recv.map((s) => s[0]!.rid), ['f', 'h', 'q']);
    assert.ok(video.extmaps.some((e) => e.uri === HeaderExtensionUri.rtpStreamId));
    const result = await page.evaluate(async (sdp) => {
      const pc = (globalThis as unknown as BrowserGlobal).pc2!;
      try {
        await pc.setRemoteDescription({ type: 'answer', sdp });
        return `ok ${pc.getSenders()[0]!.getParameters().encodings.map((e) => e.rid).join(',')}`;
      } catch (e) {
        return `error ${String(e)}`;
      }
    }, serializeSdp(answer));
    assert.equal(result, 'ok f,h,q');
  });

  for (const bundleOnly of [false, true]) {
    it(`answers our offer (bundleOnly ${bundleOnly}) accepting audio, video and data in one BUNDLE group`, async () => {
      const offer = createOffer({ session: SESSION, transport: localTransport(), transceivers: SENDERS, dataChannel: { mid: '2' }, bundleOnly });
      const answerSdp = await page.evaluate(async (sdp) => {
        const pc = new (globalThis as unknown as BrowserGlobal).RTCPeerConnection();
        try {
          await pc.setRemoteDescription({ type: 'offer', sdp });
          const a = await pc.createAnswer();
          await pc.setLocalDescription(a);
          return a.sdp!;
        } catch (e) {
          return `error ${String(e)}`;
        } finally {
          pc.close();
        }
      }, serializeSdp(offer));
      assert.ok(!answerSdp.startsWith('error'), answerSdp);
      const answer = parseSdp(answerSdp);
      assert.equal(assertValidAnswer(offer, answer, 65536), 3);
      assert.deepEqual(answer.groups, [{ semantics: 'BUNDLE', mids: ['0', '1', '2'] }]);
      assert.deepEqual(answer.media.map((m) => m.direction), ['recvonly', 'recvonly', undefined]);
      assert.equal(answer.media[1]!.codecs[0]!.name, 'VP8');
    });
  }
});
