// Child process of wrtc.test.ts: exchanges SDP with libwebrtc M106 (@roamhq/wrtc) and prints the
// results as one JSON line. It runs apart because @roamhq/wrtc 0.10 crashes (SIGSEGV) at process exit.
import wrtc from '@roamhq/wrtc';
import { createAnswer, createOffer, parseSdp, serializeSdp } from '../../../lib/sdp/index.js';
import { localTransport, SESSION } from './helpers.js';

/** What the parent test checks. */
export interface WrtcExchange {
  /** wrtc's offer. */
  wrtcOffer: string;
  /** Our answer to it. */
  ourAnswer: string;
  /** wrtc's transceiver directions after applying our answer, or the error text. */
  applied: string[] | string;
  /** Our bundle-only offer. */
  ourOffer: string;
  /** wrtc's answer to it, or the error text. */
  wrtcAnswer: string;
}

async function exchange(): Promise<WrtcExchange> {
  const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
  pc.addTransceiver('audio');
  pc.addTransceiver('video');
  pc.createDataChannel('d');
  const o = await pc.createOffer();
  await pc.setLocalDescription(o);
  const answer = createAnswer(parseSdp(o.sdp!), {
    session: SESSION,
    transport: localTransport(),
    media: {
      '0': { direction: 'sendrecv', sender: { cname: 'cn', ssrc: 11, msids: [{ stream: 'st', track: 'a' }] } },
      '1': { direction: 'sendrecv', sender: { cname: 'cn', ssrc: 22, rtxSsrc: 23, msids: [{ stream: 'st', track: 'v' }] } },
    },
  });
  let applied: string[] | string;
  try {
    await pc.setRemoteDescription({ type: 'answer', sdp: serializeSdp(answer) });
    applied = pc.getTransceivers().map((t: { currentDirection: string | null }) => String(t.currentDirection));
  } catch (e) {
    applied = `error ${String(e)}`;
  }
  pc.close();

  const pc2 = new wrtc.RTCPeerConnection({ iceServers: [] });
  const offer = createOffer({
    session: SESSION,
    transport: localTransport(),
    transceivers: [{ mid: '0', kind: 'audio', direction: 'sendrecv' }, { mid: '1', kind: 'video', direction: 'sendrecv' }],
    dataChannel: { mid: '2' },
    bundleOnly: true,
  });
  let wrtcAnswer: string;
  try {
    await pc2.setRemoteDescription({ type: 'offer', sdp: serializeSdp(offer) });
    wrtcAnswer = (await pc2.createAnswer()).sdp!;
  } catch (e) {
    wrtcAnswer = `error ${String(e)}`;
  }
  pc2.close();
  return { wrtcOffer: o.sdp!, ourAnswer: serializeSdp(answer), applied, ourOffer: serializeSdp(offer), wrtcAnswer };
}

process.stdout.write(`${JSON.stringify(await exchange())}\n`, () => process.exit(0));
