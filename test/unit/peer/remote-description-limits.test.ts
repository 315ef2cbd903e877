// setRemoteDescription refuses, before anything is applied, what a peer could use to take our
// resources or that the DTLS roles cannot follow (docs/sdp.md "Validating a remote description"),
// and setLocalDescription(answer) that fails leaves the offer pending (webrtc-pc §4.4.1.5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection } from '../../../lib/peer/index.js';
import { MAX_REMOTE_TRANSPORTS } from '../../../lib/sdp/index.js';

function rejectsWith(code: string, name: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof Error, String(err));
    assert.equal((err as Error & { code?: string }).code, code, err.message);
    assert.equal(err.name, name);
    return true;
  };
}

/** An offer of `n` audio m-sections outside any BUNDLE group: one transport (socket) each. */
function unbundledOffer(n: number): string {
  const fp = Array.from({ length: 32 }, () => 'AB').join(':');
  const head = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuv', `a=fingerprint:sha-256 ${fp}`, 'a=setup:actpass'];
  const sections = Array.from({ length: n }, (_, i) => ['m=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', `a=mid:${i}`, 'a=rtcp-mux', 'a=sendrecv', 'a=rtpmap:111 opus/48000/2'].join('\r\n'));
  return `${[...head, ...sections].join('\r\n')}\r\n`;
}

/** Two connections where b has answered a's audio offer (a still has-local-offer). */
async function answeredPair(): Promise<[RTCPeerConnection, RTCPeerConnection]> {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  a.addTransceiver('audio');
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  return [a, b];
}

test(`an offer needing more than ${MAX_REMOTE_TRANSPORTS} transports is refused before anything is applied; ${MAX_REMOTE_TRANSPORTS} are answered`, async () => {
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    await assert.rejects(pc.setRemoteDescription({ type: 'offer', sdp: unbundledOffer(1500) }), rejectsWith('ERR_SDP_TOO_MANY_TRANSPORTS', 'InvalidAccessError'));
    await assert.rejects(pc.setRemoteDescription({ type: 'offer', sdp: unbundledOffer(MAX_REMOTE_TRANSPORTS + 1) }), rejectsWith('ERR_SDP_TOO_MANY_TRANSPORTS', 'InvalidAccessError'));
    assert.equal(pc.signalingState, 'stable');
    assert.equal(pc.remoteDescription, null);
    assert.equal(pc.getTransceivers().length, 0);
    await pc.setRemoteDescription({ type: 'offer', sdp: unbundledOffer(MAX_REMOTE_TRANSPORTS) });
    await pc.setLocalDescription(await pc.createAnswer());
    assert.equal(pc.signalingState, 'stable');
    assert.equal(pc.localDescription!.sdp.match(/^m=audio [1-9]/gm)?.length, MAX_REMOTE_TRANSPORTS, 'every section answered on its own port');
  } finally {
    pc.close();
  }
});

test('a 256-character mid is refused by setRemoteDescription (the RTP mid extension carries 255 bytes); 255 works', async () => {
  for (const [length, ok] of [[256, false], [255, true]] as const) {
    const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    try {
      a.addTransceiver('audio');
      await a.setLocalDescription(await a.createOffer());
      const mid = 'm'.repeat(length);
      const offer = a.localDescription!.sdp.replace(/a=mid:0\r\n/, `a=mid:${mid}\r\n`).replace(/a=group:BUNDLE 0\r\n/, `a=group:BUNDLE ${mid}\r\n`);
      if (!ok) {
        await assert.rejects(b.setRemoteDescription({ type: 'offer', sdp: offer }), rejectsWith('ERR_SDP_BAD_ATTRIBUTE', 'SyntaxError'));
        assert.equal(b.signalingState, 'stable');
        continue;
      }
      await b.setRemoteDescription({ type: 'offer', sdp: offer });
      await b.setLocalDescription(await b.createAnswer());
      assert.equal(b.signalingState, 'stable');
      assert.ok(b.localDescription!.sdp.includes(`a=mid:${mid}\r\n`));
    } finally {
      a.close();
      b.close();
    }
  }
});

test("a remote answer saying a=setup:actpass or holdconn is refused and the offer stays pending (RFC 5763 §5)", async () => {
  const [a, b] = await answeredPair();
  try {
    const answer = b.localDescription!.sdp;
    for (const role of ['actpass', 'holdconn']) {
      const bad = answer.replace(/a=setup:(active|passive)/g, `a=setup:${role}`);
      await assert.rejects(a.setRemoteDescription({ type: 'answer', sdp: bad }), rejectsWith('ERR_SDP_BAD_SETUP', 'InvalidAccessError'));
      assert.equal(a.signalingState, 'have-local-offer');
    }
    // An offer with holdconn is refused at setRemoteDescription, not later at createAnswer.
    const c = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    try {
      const holdconn = a.localDescription!.sdp.replace(/a=setup:actpass/g, 'a=setup:holdconn');
      await assert.rejects(c.setRemoteDescription({ type: 'offer', sdp: holdconn }), rejectsWith('ERR_SDP_BAD_SETUP', 'InvalidAccessError'));
      assert.equal(c.signalingState, 'stable');
    } finally {
      c.close();
    }
    await a.setRemoteDescription({ type: 'answer', sdp: answer });
    await Promise.all([a.connected(15_000), b.connected(15_000)]);
  } finally {
    a.close();
    b.close();
  }
});

test('setLocalDescription(answer) that fails while applying leaves the offer pending, and a retry works', async () => {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    a.addTransceiver('audio');
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription!);
    const answer = await b.createAnswer();
    // Applying fails once, as any error inside the negotiation would (a white-box fault).
    const target = b as unknown as { applyNegotiation: (...args: unknown[]) => void };
    const original = target.applyNegotiation;
    target.applyNegotiation = () => {
      target.applyNegotiation = original;
      throw new RangeError('injected');
    };
    await assert.rejects(b.setLocalDescription(answer), /injected/);
    assert.equal(b.signalingState, 'have-remote-offer');
    assert.equal(b.currentLocalDescription, null);
    assert.equal(b.currentRemoteDescription, null);
    assert.equal(b.pendingRemoteDescription?.sdp, a.localDescription!.sdp);
    await b.setLocalDescription(answer);
    assert.equal(b.signalingState, 'stable');
    await a.setRemoteDescription(b.localDescription!);
    await Promise.all([a.connected(15_000), b.connected(15_000)]);
  } finally {
    a.close();
    b.close();
  }
});

test('an answer with more m-sections than our offer is refused and the offer stays pending (RFC 3264 §6)', async () => {
  const [a, b] = await answeredPair();
  try {
    const answer = b.localDescription!.sdp;
    const section = answer.slice(answer.indexOf('m=audio'));
    const extra = `${answer}${section.replace(/a=mid:0\r\n/, 'a=mid:9\r\n')}`;
    await assert.rejects(a.setRemoteDescription({ type: 'answer', sdp: extra }), rejectsWith('ERR_SDP_M_SECTION_ADDED', 'InvalidAccessError'));
    await assert.rejects(a.setRemoteDescription({ type: 'answer', sdp: `${answer}m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:9\r\n` }), rejectsWith('ERR_SDP_M_SECTION_ADDED', 'InvalidAccessError'));
    assert.equal(a.signalingState, 'have-local-offer');
    await a.setRemoteDescription({ type: 'answer', sdp: answer });
    assert.equal(a.signalingState, 'stable');
  } finally {
    a.close();
    b.close();
  }
});
