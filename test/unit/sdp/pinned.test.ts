// Pins the SDP we read and write, so that speed work on lib/sdp and lib/peer cannot change it
// silently (issue 14): the model parsed from every real peer's description, our lib/sdp offer and
// answers from fixed inputs, and RTCPeerConnection's offer and answer with their random values masked.
// `PWT_UPDATE_PINNED=1` rewrites test/unit/sdp/pinned/ from the current code (review the diff).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { createAnswer, createOffer, parseCandidate, parseSdp, serializeSdp, type SdpSessionDescription } from '../../../lib/sdp/index.js';
import { RTCPeerConnection } from '../../../lib/peer/index.js';
import '../../../lib/policy/default-policies.js';
import { fixture, localTransport, PEERS, servedCodecs, servedExtensions, SESSION } from './helpers.js';

const pinnedDir = join(dirname(fileURLToPath(import.meta.url)), 'pinned');
const UPDATE = process.env.PWT_UPDATE_PINNED === '1';

/** Compares `actual` with the pinned file `name` (or writes it with PWT_UPDATE_PINNED=1). */
function assertPinned(name: string, actual: string): void {
  const file = join(pinnedDir, name);
  if (UPDATE) {
    mkdirSync(pinnedDir, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `${name} is pinned (run with PWT_UPDATE_PINNED=1 once to write it)`);
  assert.equal(actual, readFileSync(file, 'utf8'), `${name} changed`);
}

/**
 * The model as JSON with sorted keys and an explicit mark for a property whose value is
 * `undefined`, so that a property set to undefined and one left out stay different.
 */
function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (v === undefined) return '<undefined>';
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) out[k] = sort((v as Record<string, unknown>)[k]);
      return out;
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, 1)}\n`;
}

/**
 * An RTCPeerConnection description with what changes from run to run replaced by numbered marks:
 * the session id, ICE credentials, fingerprint, ports, candidate foundations, SSRCs (also where
 * they appear inside track ids) and CNAMEs.
 */
function masked(sdp: string): string {
  const marks = new Map<string, string>();
  const mark = (kind: string, value: string): string => {
    const key = `${kind}:${value}`;
    let m = marks.get(key);
    if (m === undefined) {
      m = `<${kind}${[...marks.keys()].filter((k) => k.startsWith(`${kind}:`)).length + 1}>`;
      marks.set(key, m);
    }
    return m;
  };
  const ssrcs = new Set([...sdp.matchAll(/^a=ssrc:(\d+) /gm)].map((m) => m[1]!));
  return sdp
    .split('\r\n')
    .map((line) => {
      let l = line
        .replace(/^o=(\S+) (\d+) /, (_, user: string, id: string) => `o=${user} ${mark('session', id)} `)
        .replace(/^a=ice-ufrag:(.*)$/, (_, v: string) => `a=ice-ufrag:${mark('ufrag', v)}`)
        .replace(/^a=ice-pwd:(.*)$/, (_, v: string) => `a=ice-pwd:${mark('pwd', v)}`)
        .replace(/^a=fingerprint:(\S+) (.*)$/, (_, alg: string, v: string) => `a=fingerprint:${alg} ${mark('fingerprint', v)}`)
        .replace(/^m=(\S+) (\d+) /, (_, kind: string, port: string) => `m=${kind} ${port === '0' || port === '9' ? port : mark('port', port)} `)
        .replace(/^a=candidate:(\S+) (\d+) (\S+) (\d+) (\S+) (\d+) /, (_, f: string, c: string, p: string, prio: string, addr: string, port: string) =>
          `a=candidate:${mark('foundation', f)} ${c} ${p} ${prio} ${addr} ${mark('port', port)} `)
        .replace(/cname:(\S+)/, (_, v: string) => `cname:${mark('cname', v)}`);
      // Whole numbers only (after the lines above have masked every other random value).
      for (const s of ssrcs) l = l.replace(new RegExp(`(?<![0-9])${s}(?![0-9])`, 'g'), mark('ssrc', s));
      return l;
    })
    .join('\r\n');
}

describe('pinned SDP', () => {
  for (const peer of PEERS) {
    for (const kind of ['offer', 'answer'] as const) {
      const name = `${kind}-from-${peer}`;
      it(`${name}: parses to the pinned model`, () => {
        assertPinned(`parsed-${name}.json`, canonicalJson(parseSdp(fixture(`${name}.sdp`))));
      });
    }
    it(`our lib/sdp answer to offer-from-${peer} is the pinned text`, () => {
      const offer = parseSdp(fixture(`offer-from-${peer}.sdp`));
      const sender = (ssrc: number, track: string) => ({ cname: 'pwt-cname', ssrc, rtxSsrc: ssrc + 1, msids: [{ stream: 'pwt-stream', track }] });
      const answer: SdpSessionDescription = createAnswer(offer, {
        session: SESSION,
        transport: localTransport(),
        codecs: servedCodecs(),
        headerExtensions: servedExtensions(),
        media: { '0': { direction: 'sendrecv', sender: sender(1000, 'audio-track') }, '1': { direction: 'sendrecv', sender: sender(2000, 'video-track') } },
        dataChannel: { maxMessageSize: 262144 },
      });
      const text = serializeSdp(answer);
      assertPinned(`answer-to-${peer}.sdp`, text);
      assert.equal(serializeSdp(parseSdp(text)), text, 'our answer round-trips');
    });
  }

  it('our lib/sdp offer (audio, simulcast video, data) is the pinned text', () => {
    const codecs = servedCodecs();
    const extensions = servedExtensions();
    const offer = createOffer({
      session: SESSION,
      transport: { ...localTransport(), setup: 'actpass', candidates: [parseCandidate('candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host')] },
      transceivers: [
        {
          mid: '0', kind: 'audio', direction: 'sendrecv',
          codecs: codecs.filter((c) => c.kind === 'audio'), headerExtensions: extensions.filter((e) => e.kind === 'audio'),
          sender: { cname: 'pwt-cname', ssrc: 1000, msids: [{ stream: 'pwt-stream', track: 'audio-track' }] },
        },
        {
          mid: '1', kind: 'video', direction: 'sendonly',
          codecs: codecs.filter((c) => c.kind === 'video'), headerExtensions: extensions.filter((e) => e.kind === 'video'),
          sender: { cname: 'pwt-cname', ssrc: 2000, rtxSsrc: 2001, msids: [{ stream: 'pwt-stream', track: 'video-track' }] },
          sendRids: ['h', 'm', 'l'],
        },
      ],
      dataChannel: { mid: '2', maxMessageSize: 262144 },
    });
    const text = serializeSdp(offer);
    assertPinned('offer-lib-sdp.sdp', text);
    assert.equal(serializeSdp(parseSdp(text)), text, 'our offer round-trips');
  });

  it('RTCPeerConnection offer and answer (audio, video, data channel) are the pinned texts, random values masked', { timeout: 10_000 }, async () => {
    const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    try {
      a.addTransceiver('audio');
      a.addTransceiver('video', { direction: 'recvonly' });
      a.createDataChannel('pinned');
      await a.setLocalDescription(await a.createOffer());
      await b.setRemoteDescription(a.localDescription!);
      await b.setLocalDescription(await b.createAnswer());
      await a.setRemoteDescription(b.localDescription!);
      assertPinned('rtc-offer.sdp', masked(a.localDescription!.sdp));
      assertPinned('rtc-answer.sdp', masked(b.localDescription!.sdp));
      for (const d of [a.localDescription!, b.localDescription!, a.remoteDescription!]) {
        assert.equal(serializeSdp(parseSdp(d.sdp)), d.sdp, `the ${d.type} round-trips`);
      }
    } finally {
      a.close();
      b.close();
    }
  });
});

/** The description RTCPeerConnection made last with its model (the private field setLocalDescription reuses). */
function lastCreated(pc: RTCPeerConnection): { sdp: string; model: SdpSessionDescription } {
  const last = (pc as unknown as { lastCreated?: { sdp: string; model: SdpSessionDescription } }).lastCreated;
  assert.ok(last, 'createOffer/createAnswer remembered the description');
  return last;
}

describe('a description RTCPeerConnection makes parses back to the model it was made from', () => {
  // setLocalDescription of a description just made takes that model instead of parsing the text
  // (docs/peer.md "Setup cost"): only sound while parseSdp(serializeSdp(model)) equals the model.
  it('offers and answers with audio, video, simulcast, data, a stopped transceiver and a renegotiation', { timeout: 10_000 }, async () => {
    const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    try {
      a.addTransceiver('audio');
      a.addTransceiver('video', { direction: 'sendonly', sendEncodings: [{ rid: 'h' }, { rid: 'l' }] });
      const stopped = a.addTransceiver('video', { direction: 'recvonly' });
      a.createDataChannel('model');
      for (let round = 0; round < 2; round++) {
        const offer = await a.createOffer();
        assert.deepStrictEqual(lastCreated(a).model, parseSdp(offer.sdp!), `offer ${round}`);
        await a.setLocalDescription(offer);
        await b.setRemoteDescription(a.localDescription!);
        const answer = await b.createAnswer();
        assert.deepStrictEqual(lastCreated(b).model, parseSdp(answer.sdp!), `answer ${round}`);
        await b.setLocalDescription(answer);
        await a.setRemoteDescription(b.localDescription!);
        assert.equal(a.signalingState, 'stable');
        stopped.stop();
        b.addTransceiver('audio');
      }
    } finally {
      a.close();
      b.close();
    }
  });
});
