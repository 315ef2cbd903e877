// What a new user gets for wrong arguments to the public API, imported as a user imports it: every
// row is a typed error (a PwtError with the W3C/DOMException-style name and a stable code), thrown
// synchronously or as a rejection, within a bound, with no uncaught exception or unhandled
// rejection. Garbage SDP and candidates against a live, connected session are in
// test/hostile/signaling.test.ts, and the state rules (signaling states, closed connections) in
// test/unit/peer/api.test.ts; this table covers constructors, options and arguments.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  DtlsCertificate,
  LocalStreamTrack,
  PwtError,
  RTCPeerConnection,
  Router,
  RtpPacket,
  UdpMux,
  defaultPolicyFactories,
} from 'pure-webrtc-transport';

const BOUND_MS = 5000;
const faults: string[] = [];
const onRejection = (e: unknown): void => void faults.push(`unhandledRejection: ${String(e)}`);
const onException = (e: unknown): void => void faults.push(`uncaughtException: ${String(e)}`);
process.on('unhandledRejection', onRejection);
process.on('uncaughtException', onException);
const cleanup: Array<() => void> = [];
after(() => {
  for (const c of cleanup.reverse()) c();
  process.off('unhandledRejection', onRejection);
  process.off('uncaughtException', onException);
});

type Row = readonly [what: string, run: () => unknown, name: string, code: string];

/** Runs `run` and returns its error (sync throw or rejection), or 'ok', or 'hang' past the bound. */
async function outcome(run: () => unknown): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const r = run();
    if (r instanceof Promise) {
      const bound = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), BOUND_MS)));
      const v = await Promise.race([r.then(() => 'ok' as const), bound]);
      return v;
    }
    return 'ok';
  } catch (err) {
    return err;
  } finally {
    clearTimeout(timer);
  }
}

async function check(rows: readonly Row[]): Promise<void> {
  const problems: string[] = [];
  for (const [what, run, name, code] of rows) {
    const got = await outcome(run);
    if (!(got instanceof PwtError)) {
      problems.push(`${what}: expected ${name} ${code}, got ${got instanceof Error ? `${got.constructor.name} ${got.name}: ${got.message}` : String(got)}`);
    } else if (got.name !== name || got.code !== code) {
      problems.push(`${what}: expected ${name} ${code}, got ${got.name} ${got.code} (${got.message})`);
    } else if (got.message.length < 10) {
      problems.push(`${what}: message too short to help: "${got.message}"`);
    }
  }
  assert.deepEqual(problems, [], `\n${problems.join('\n')}`);
}

function pc(config?: ConstructorParameters<typeof RTCPeerConnection>[0]): RTCPeerConnection {
  const p = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], ...config });
  cleanup.push(() => p.close());
  return p;
}

test('new RTCPeerConnection(configuration): every wrong option is a typed error', async () => {
  const make = (c: unknown) => () => new RTCPeerConnection(c as never).close();
  await check([
    ['a number', make(5), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['a string', make('stun:x'), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['iceServers not an array', make({ iceServers: 'stun:stun.example.org' }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['iceServers entry not an object', make({ iceServers: ['stun:stun.example.org'] }), 'TypeError', 'ERR_PEER_ICE_SERVER'],
    ['iceServers urls missing', make({ iceServers: [{}] }), 'TypeError', 'ERR_PEER_ICE_SERVER'],
    ['iceServers urls empty (webrtc-pc §4.4.1.1 step 2)', make({ iceServers: [{ urls: [] }] }), 'SyntaxError', 'ERR_PEER_ICE_SERVER_URLS_EMPTY'],
    ['iceServers urls holds a non-string', make({ iceServers: [{ urls: ['stun:a.example', 5] }] }), 'TypeError', 'ERR_PEER_ICE_SERVER'],
    ['iceServers url not stun/turn', make({ iceServers: [{ urls: 'http://example.org' }] }), 'SyntaxError', 'ERR_PEER_ICE_SERVER_URL'],
    ['iceServers url bad port', make({ iceServers: [{ urls: 'stun:example.org:99999' }] }), 'SyntaxError', 'ERR_PEER_ICE_SERVER_URL'],
    ['iceServers stun url with a query', make({ iceServers: [{ urls: 'stun:example.org?transport=udp' }] }), 'SyntaxError', 'ERR_PEER_ICE_SERVER_URL'],
    ['turn without credentials', make({ iceServers: [{ urls: 'turn:192.0.2.1' }] }), 'InvalidAccessError', 'ERR_PEER_ICE_SERVER_CREDENTIALS'],
    ['turns without credential', make({ iceServers: [{ urls: ['turns:192.0.2.1'], username: 'u' }] }), 'InvalidAccessError', 'ERR_PEER_ICE_SERVER_CREDENTIALS'],
    ['iceTransportPolicy unknown', make({ iceTransportPolicy: 'none' }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['bundlePolicy unknown', make({ bundlePolicy: 'max-everything' }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['answerDtlsRole unknown', make({ answerDtlsRole: 'both' }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['iceLite not a boolean', make({ iceLite: 'yes' }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['hostAddresses a string', make({ hostAddresses: '127.0.0.1' }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['hostAddresses not an IP', make({ hostAddresses: ['localhost'] }), 'TypeError', 'ERR_PEER_HOST_ADDRESS'],
    ['hostAddresses a number', make({ hostAddresses: [127] }), 'TypeError', 'ERR_PEER_HOST_ADDRESS'],
    ['certificates not certificates', make({ certificates: [{}] }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['srtpProfiles unknown', make({ srtpProfiles: ['NULL_NULL'] }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['rtpPolicies not factories', make({ rtpPolicies: [5] }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['codecs not objects', make({ codecs: ['opus'] }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['udpMux not a UdpMux', make({ udpMux: {} }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['tcpMux not a TcpMux', make({ tcpMux: 1 }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['portRange min > max', make({ portRange: { min: 50000, max: 40000 } }), 'RangeError', 'ERR_PEER_PORT_RANGE'],
    ['portRange 70000', make({ portRange: { min: 1, max: 70000 } }), 'RangeError', 'ERR_PEER_PORT_RANGE'],
    ['maxMessageSize negative', make({ maxMessageSize: -1 }), 'RangeError', 'ERR_PEER_CONFIGURATION'],
  ]);
  // What is right stays accepted: null and undefined (WebIDL's optional dictionary), the W3C forms.
  for (const ok of [undefined, null, {}, { iceServers: [{ urls: ['stun:192.0.2.1:3478', 'turn:192.0.2.1?transport=tcp'], username: 'u', credential: 'p' }] },
    { bundlePolicy: 'max-compat', iceTransportPolicy: 'relay', certificates: [await DtlsCertificate.generate()], rtpPolicies: defaultPolicyFactories() }]) {
    new RTCPeerConnection(ok as never).close();
  }
});

test('setConfiguration (webrtc-pc "set the configuration"): closed, malformed and fixed options are typed errors that change nothing', async () => {
  const cert = await DtlsCertificate.generate();
  const p = pc({ certificates: [cert], iceServers: [{ urls: 'stun:192.0.2.1' }] });
  const set = (c: unknown) => () => p.setConfiguration(c as never);
  const closed = pc();
  closed.close();
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  cleanup.push(() => mux.close());
  const onMux = pc({ udpMux: mux });
  const sld = pc({ iceCandidatePoolSize: 2 });
  await sld.setLocalDescription(await sld.createOffer());
  await check([
    ['on a closed connection', () => closed.setConfiguration({}), 'InvalidStateError', 'ERR_PEER_CLOSED'],
    // The constructor's validation, the same typed errors.
    ['not an object', set(5), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['iceServers not an array', set({ iceServers: 'stun:stun.example.org' }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['iceServers urls empty', set({ iceServers: [{ urls: [] }] }), 'SyntaxError', 'ERR_PEER_ICE_SERVER_URLS_EMPTY'],
    ['iceServers url not stun/turn', set({ iceServers: [{ urls: 'http://example.org' }] }), 'SyntaxError', 'ERR_PEER_ICE_SERVER_URL'],
    ['iceServers stun url with a query', set({ iceServers: [{ urls: 'stun:example.org?transport=udp' }] }), 'SyntaxError', 'ERR_PEER_ICE_SERVER_URL'],
    ['turn without credentials', set({ iceServers: [{ urls: 'turn:192.0.2.1' }] }), 'InvalidAccessError', 'ERR_PEER_ICE_SERVER_CREDENTIALS'],
    ['iceTransportPolicy unknown', set({ iceTransportPolicy: 'none' }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['rtcpMuxPolicy negotiate (not supported)', set({ rtcpMuxPolicy: 'negotiate' }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['iceCandidatePoolSize 256 ([EnforceRange] octet)', set({ iceCandidatePoolSize: 256 }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['iceCandidatePoolSize NaN', set({ iceCandidatePoolSize: Number.NaN }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    // ToNumber first (WebIDL ConvertToInt), then [EnforceRange].
    ['iceCandidatePoolSize Infinity', set({ iceCandidatePoolSize: Number.POSITIVE_INFINITY }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['iceCandidatePoolSize -Infinity', set({ iceCandidatePoolSize: Number.NEGATIVE_INFINITY }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['iceCandidatePoolSize -1', set({ iceCandidatePoolSize: -1 }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ["iceCandidatePoolSize '256' (ToNumber, then out of range)", set({ iceCandidatePoolSize: '256' }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ["iceCandidatePoolSize 'five' (ToNumber: NaN)", set({ iceCandidatePoolSize: 'five' }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['iceCandidatePoolSize an object (ToNumber: NaN)', set({ iceCandidatePoolSize: {} }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['iceCandidatePoolSize a Symbol', set({ iceCandidatePoolSize: Symbol('5') }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    ['iceCandidatePoolSize a BigInt', set({ iceCandidatePoolSize: 5n }), 'TypeError', 'ERR_PEER_CONFIGURATION'],
    // What cannot change after construction.
    ['certificates another one', set({ certificates: [DtlsCertificate.generate()] }), 'InvalidModificationError', 'ERR_PEER_CONFIGURATION_MODIFIED'],
    ['bundlePolicy balanced on a max-bundle connection', set({ bundlePolicy: 'balanced' }), 'InvalidModificationError', 'ERR_PEER_CONFIGURATION_MODIFIED'],
    ['udpMux on a connection made without one', set({ udpMux: mux }), 'InvalidModificationError', 'ERR_PEER_CONFIGURATION_MODIFIED'],
    ['hostAddresses another list', set({ hostAddresses: ['127.0.0.2'] }), 'InvalidModificationError', 'ERR_PEER_CONFIGURATION_MODIFIED'],
    ['iceLite turned on', set({ iceLite: true }), 'InvalidModificationError', 'ERR_PEER_CONFIGURATION_MODIFIED'],
    ['maxMessageSize another size', set({ maxMessageSize: 1000 }), 'InvalidModificationError', 'ERR_PEER_CONFIGURATION_MODIFIED'],
    ['iceCandidatePoolSize changed after setLocalDescription', () => sld.setConfiguration({ iceCandidatePoolSize: 3 }), 'InvalidModificationError', 'ERR_PEER_CONFIGURATION_MODIFIED'],
  ]);
  // Nothing changed by the refusals.
  assert.deepEqual(p.getConfiguration().iceServers, [{ urls: 'stun:192.0.2.1' }]);
  // What may change, does: servers, policy, the pool size before setLocalDescription; the same
  // certificates (as made, or as getConfiguration reports them), the same fixed options, and the
  // connection's own getConfiguration() back are accepted.
  p.setConfiguration({ ...p.getConfiguration(), iceServers: [{ urls: 'turn:192.0.2.1', username: 'u', credential: 'p' }], iceTransportPolicy: 'relay', iceCandidatePoolSize: 4 });
  const now = p.getConfiguration();
  assert.deepEqual(now.iceServers, [{ urls: 'turn:192.0.2.1', username: 'u', credential: 'p' }]);
  assert.equal(now.iceTransportPolicy, 'relay');
  assert.equal(now.iceCandidatePoolSize, 4);
  assert.deepEqual(now.certificates, [cert]);
  p.setConfiguration({ certificates: [cert], hostAddresses: ['127.0.0.1'] });
  // Left out, the W3C members are their defaults again (the changes are not additive).
  assert.equal(p.getConfiguration().iceServers, undefined);
  assert.equal(p.getConfiguration().iceTransportPolicy, undefined);
  onMux.setConfiguration({ udpMux: mux, iceServers: [] });
  sld.setConfiguration({ iceCandidatePoolSize: 2, iceTransportPolicy: 'all' });
  assert.equal(pc({ iceCandidatePoolSize: 7.9 }).getConfiguration().iceCandidatePoolSize, 7, 'truncated as WebIDL does');
  // ToNumber first, as WebIDL converts an [EnforceRange] octet.
  const converted = (v: unknown): number | undefined => pc({ iceCandidatePoolSize: v as number }).getConfiguration().iceCandidatePoolSize;
  assert.equal(converted('5'), 5, "'5' is 5");
  assert.equal(converted(' 12 '), 12, 'white space around the digits is ToNumber-trimmed');
  assert.equal(converted('255'), 255);
  assert.equal(converted(''), 0, "'' is 0");
  assert.equal(converted(null), 0, 'null is 0');
  assert.equal(converted(true), 1, 'true is 1');
  assert.equal(converted({ valueOf: () => 9 }), 9, "an object's valueOf");
  assert.ok(Object.is(converted(-0.5), 0), '-0.5 truncates to 0, not -0');
  assert.equal(converted(255.9), 255, 'truncated before the range check');
});

test('setRemoteDescription with empty, garbage and truncated SDP: typed rejections, state unchanged', async () => {
  const offerer = pc();
  offerer.addTransceiver('audio');
  offerer.createDataChannel('chat');
  await offerer.setLocalDescription();
  const full = offerer.localDescription!.sdp;
  const p = pc();
  const sdp = (text: unknown) => () => p.setRemoteDescription({ type: 'offer', sdp: text as string });
  await check([
    ['no description', () => (p.setRemoteDescription as (d?: unknown) => Promise<void>)(), 'TypeError', 'ERR_PEER_SDP_TYPE'],
    ['type unknown', () => p.setRemoteDescription({ type: 'bogus' as 'offer', sdp: full }), 'TypeError', 'ERR_PEER_SDP_TYPE'],
    ['answer while stable', () => p.setRemoteDescription({ type: 'answer', sdp: full }), 'InvalidStateError', 'ERR_PEER_SIGNALING_STATE'],
    ['empty', sdp(''), 'SyntaxError', 'ERR_SDP_EMPTY'],
    ['sdp missing', sdp(undefined), 'SyntaxError', 'ERR_SDP_EMPTY'],
    ['sdp a number', sdp(42), 'SyntaxError', 'ERR_SDP_NOT_A_STRING'],
    ['garbage', sdp('hello world'), 'SyntaxError', 'ERR_SDP_BAD_LINE'],
    ['v=0 only', sdp('v=0\r\n'), 'SyntaxError', 'ERR_SDP_MISSING_ORIGIN'],
    ['over 1 MiB', sdp(`v=0\r\n${'a=x\r\n'.repeat(300_000)}`), 'SyntaxError', 'ERR_SDP_TOO_LARGE'],
    ['cut inside o=', sdp(full.slice(0, 10)), 'SyntaxError', 'ERR_SDP_BAD_ORIGIN'],
    ['cut after the session part', sdp(full.slice(0, full.indexOf('m=audio'))), 'InvalidAccessError', 'ERR_SDP_BUNDLE_UNKNOWN_MID'],
    ['cut inside the m= line', sdp(full.slice(0, full.indexOf('m=audio') + 9)), 'SyntaxError', 'ERR_SDP_BAD_MEDIA_LINE'],
    ['cut inside the fingerprint', sdp(full.slice(0, full.indexOf('a=fingerprint:sha-256 ') + 25)), 'SyntaxError', 'ERR_SDP_BAD_ATTRIBUTE'],
    // Refused here, not at the next setLocalDescription when DTLS starts (it threw TypeError
    // ERR_DTLS_FINGERPRINT from there).
    ['a 3-byte sha-256 fingerprint', sdp(full.replace(/(a=fingerprint:sha-256 )[0-9A-F:]+/, '$1CB:92:95')), 'InvalidAccessError', 'ERR_PEER_BAD_FINGERPRINT'],
    ['an md5 fingerprint only', sdp(full.replace('a=fingerprint:sha-256', 'a=fingerprint:md5')), 'InvalidAccessError', 'ERR_PEER_BAD_FINGERPRINT'],
  ]);
  assert.equal(p.signalingState, 'stable');
  assert.equal(p.remoteDescription, null);
  // An md5 line beside a usable sha-256 one is left out; the answer applies.
  const fp = /a=fingerprint:sha-256 [0-9A-F:]+\r\n/.exec(full)![0];
  await p.setRemoteDescription({ type: 'offer', sdp: full.replace(fp, `${fp}a=fingerprint:md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n`) });
  assert.equal(p.signalingState, 'have-remote-offer');
  await p.setLocalDescription();
  assert.equal(p.signalingState, 'stable');
});

test('addIceCandidate with malformed candidates: typed rejections', async () => {
  const offerer = pc();
  offerer.addTransceiver('audio');
  await offerer.setLocalDescription();
  const p = pc();
  const line = 'candidate:1 1 udp 2130706431 192.0.2.7 5000 typ host';
  await check([
    ['before a remote description', () => p.addIceCandidate({ candidate: line, sdpMid: '0' }), 'InvalidStateError', 'ERR_PEER_NO_REMOTE_DESCRIPTION'],
  ]);
  await p.setRemoteDescription(offerer.localDescription!);
  await check([
    ['a number', () => p.addIceCandidate(5 as never), 'TypeError', 'ERR_PEER_CANDIDATE_TYPE'],
    ['a bare string', () => p.addIceCandidate(line as never), 'TypeError', 'ERR_PEER_CANDIDATE_TYPE'],
    ['candidate a number', () => p.addIceCandidate({ candidate: 42 as never, sdpMid: '0' }), 'TypeError', 'ERR_PEER_CANDIDATE_TYPE'],
    ['garbage', () => p.addIceCandidate({ candidate: 'garbage', sdpMid: '0' }), 'OperationError', 'ERR_PEER_BAD_CANDIDATE'],
    ['fewer than 8 fields', () => p.addIceCandidate({ candidate: 'candidate:1 1 udp 1 192.0.2.7 5000', sdpMid: '0' }), 'OperationError', 'ERR_PEER_BAD_CANDIDATE'],
    ['port 99999', () => p.addIceCandidate({ candidate: 'candidate:1 1 udp 1 192.0.2.7 99999 typ host', sdpMid: '0' }), 'OperationError', 'ERR_PEER_BAD_CANDIDATE'],
    ['100 KB line', () => p.addIceCandidate({ candidate: `candidate:${'x'.repeat(100_000)}`, sdpMid: '0' }), 'OperationError', 'ERR_PEER_BAD_CANDIDATE'],
    ['unknown sdpMid', () => p.addIceCandidate({ candidate: line, sdpMid: 'video7' }), 'OperationError', 'ERR_PEER_CANDIDATE_MID'],
    ['sdpMLineIndex past the last m-section', () => p.addIceCandidate({ candidate: line, sdpMLineIndex: 3 }), 'OperationError', 'ERR_PEER_CANDIDATE_MLINE'],
    ['sdpMLineIndex negative', () => p.addIceCandidate({ candidate: line, sdpMLineIndex: -1 }), 'OperationError', 'ERR_PEER_CANDIDATE_MLINE'],
    ['end of candidates for an unknown mid', () => p.addIceCandidate({ candidate: '', sdpMid: 'x' }), 'OperationError', 'ERR_PEER_CANDIDATE_MID'],
  ]);
  // The W3C forms that are right: by mid, by index, end of candidates (null, {}, empty string).
  await p.addIceCandidate({ candidate: line, sdpMid: '0' });
  await p.addIceCandidate({ candidate: 'candidate:2 1 udp 2130706431 192.0.2.8 5000 typ host', sdpMLineIndex: 0 });
  await p.addIceCandidate(null);
  await p.addIceCandidate({ candidate: '' });
  // WebIDL converts the members first, as a browser does: loosely typed JSON signaling sends these.
  await p.addIceCandidate({ candidate: 'candidate:3 1 udp 2130706431 192.0.2.9 5000 typ host', sdpMid: 0 as never });
  await p.addIceCandidate({ candidate: 'candidate:4 1 udp 2130706431 192.0.2.10 5000 typ host', sdpMLineIndex: '0' as never });
  await p.addIceCandidate({ candidate: 'candidate:5 1 udp 2130706431 192.0.2.11 5000 typ host', sdpMLineIndex: 65_536 });
  await check([
    ['sdpMLineIndex a symbol', () => p.addIceCandidate({ candidate: line, sdpMLineIndex: Symbol('x') as never }), 'TypeError', 'ERR_PEER_CANDIDATE_TYPE'],
    ['sdpMLineIndex 150000 (18928 after the modulo: past the end)', () => p.addIceCandidate({ candidate: line, sdpMLineIndex: 150_000 }), 'OperationError', 'ERR_PEER_CANDIDATE_MLINE'],
  ]);
});

test('createDataChannel with invalid options: typed errors, nothing created', async () => {
  const p = pc();
  await check([
    ['no label', () => (p.createDataChannel as (l?: unknown) => unknown)(), 'TypeError', 'ERR_DATACHANNEL_LABEL'],
    ['options a number', () => p.createDataChannel('a', 5 as never), 'TypeError', 'ERR_DATACHANNEL_INIT'],
    ['label over 65535 bytes', () => p.createDataChannel('x'.repeat(65_536)), 'TypeError', 'ERR_DATACHANNEL_LABEL'],
    ['protocol over 65535 bytes', () => p.createDataChannel('a', { protocol: 'x'.repeat(65_536) }), 'TypeError', 'ERR_DATACHANNEL_PROTOCOL'],
    ['maxRetransmits and maxPacketLifeTime', () => p.createDataChannel('a', { maxRetransmits: 1, maxPacketLifeTime: 100 }), 'TypeError', 'ERR_DATACHANNEL_RELIABILITY'],
    ['maxRetransmits -1', () => p.createDataChannel('a', { maxRetransmits: -1 }), 'TypeError', 'ERR_DATACHANNEL_RELIABILITY'],
    ['maxRetransmits 70000', () => p.createDataChannel('a', { maxRetransmits: 70_000 }), 'TypeError', 'ERR_DATACHANNEL_RELIABILITY'],
    ['negotiated without id', () => p.createDataChannel('a', { negotiated: true }), 'TypeError', 'ERR_DATACHANNEL_ID'],
    ['id 65535', () => p.createDataChannel('a', { negotiated: true, id: 65_535 }), 'RangeError', 'ERR_DATACHANNEL_ID'],
    ['id 1.5', () => p.createDataChannel('a', { negotiated: true, id: 1.5 }), 'RangeError', 'ERR_DATACHANNEL_ID'],
    ['priority unknown', () => p.createDataChannel('a', { priority: 'urgent' as never }), 'TypeError', 'ERR_DATACHANNEL_PRIORITY'],
  ]);
  p.createDataChannel('b', { negotiated: true, id: 7 });
  await check([['negotiated id in use', () => p.createDataChannel('c', { negotiated: true, id: 7 }), 'OperationError', 'ERR_DATACHANNEL_ID_IN_USE']]);
});

test('transceivers, tracks and packets: typed errors', async () => {
  const p = pc();
  const track = new LocalStreamTrack({ kind: 'audio' });
  await check([
    ['addTransceiver(5)', () => p.addTransceiver(5 as never), 'TypeError', 'ERR_PEER_TRACK_KIND'],
    ['addTransceiver with a bad rid', () => p.addTransceiver('video', { sendEncodings: [{ rid: 'a b' }, { rid: 'c' }] }), 'TypeError', 'ERR_PEER_SEND_ENCODINGS'],
    ['addTransceiver with repeated rids', () => p.addTransceiver('video', { sendEncodings: [{ rid: 'a' }, { rid: 'a' }] }), 'TypeError', 'ERR_PEER_SEND_ENCODINGS'],
    ['LocalStreamTrack kind data', () => new LocalStreamTrack({ kind: 'data' as 'audio' }), 'TypeError', 'ERR_PEER_TRACK_KIND'],
    ['LocalStreamTrack()', () => new (LocalStreamTrack as unknown as new () => unknown)(), 'TypeError', 'ERR_PEER_TRACK_KIND'],
    ['track.send(a Buffer)', () => track.send(Buffer.alloc(20) as never), 'TypeError', 'ERR_PEER_PACKET_TYPE'],
    ['track.send(a plain object)', () => track.send({ timestamp: 1, payload: Buffer.alloc(1) } as never), 'TypeError', 'ERR_PEER_PACKET_TYPE'],
    ['getStats(5)', () => p.getStats(5 as never), 'InvalidAccessError', 'ERR_PEER_STATS_SELECTOR'],
    ['setCodecPreferences with an unknown codec', () => p.addTransceiver('audio').setCodecPreferences([{ mimeType: 'audio/bogus', clockRate: 8000 } as never]), 'InvalidModificationError', 'ERR_PEER_CODEC_PREFERENCES'],
  ]);
  track.send(new RtpPacket({ timestamp: 1, payload: Buffer.from('ok') })); // not attached: goes nowhere, no error
  track.stop();
  await check([['send on a stopped track', () => track.send(new RtpPacket({ timestamp: 2, payload: Buffer.alloc(1) })), 'InvalidStateError', 'ERR_PEER_TRACK_ENDED']]);
});

test('UdpMux.bind, Router.create, produce and consume with bad arguments: typed errors, never a hang', async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1', port: 0 });
  cleanup.push(() => mux.close());
  await check([
    ['UdpMux.bind()', () => (UdpMux.bind as (o?: unknown) => Promise<unknown>)(), 'TypeError', 'ERR_MUX_ADDRESS'],
    ['UdpMux.bind a taken port', () => UdpMux.bind({ address: '127.0.0.1', port: mux.local.port }), 'OperationError', 'ERR_UDP_ADDRESS_IN_USE'],
    ['UdpMux.bind not an IP', () => UdpMux.bind({ address: 'localhost', port: 0 }), 'TypeError', 'ERR_UDP_INVALID_ADDRESS'],
    ['UdpMux.bind port 70000', () => UdpMux.bind({ address: '127.0.0.1', port: 70_000 }), 'RangeError', 'ERR_UDP_INVALID_PORT'],
    ['UdpMux.bind an address of another host', () => UdpMux.bind({ address: '203.0.113.9', port: 0 }), 'OperationError', 'ERR_UDP_ADDRESS_NOT_AVAILABLE'],
    ['UdpMux.bind 0.0.0.0 without announcedAddress', () => UdpMux.bind({ address: '0.0.0.0', port: 0 }), 'TypeError', 'ERR_MUX_ADDRESS'],
    ['Router.create()', () => (Router.create as (m?: unknown) => unknown)(), 'TypeError', 'ERR_SFU_ARGUMENT'],
    ['Router.create(5)', () => Router.create(5 as never), 'TypeError', 'ERR_SFU_ARGUMENT'],
  ]);
  const router = Router.create(mux);
  cleanup.push(() => router.close());
  const onMux = pc({ udpMux: mux });
  const t = onMux.addTransceiver('video');
  const own = pc();
  const ownT = own.addTransceiver('video');
  await check([
    ['produce(5, 6)', () => router.produce(5 as never, 6 as never), 'TypeError', 'ERR_SFU_ARGUMENT'],
    ['produce with another connection\'s transceiver', () => router.produce(onMux, ownT), 'InvalidAccessError', 'ERR_SFU_TRANSCEIVER'],
    ['produce a connection on its own sockets', () => router.produce(own, ownT), 'InvalidAccessError', 'ERR_SFU_OTHER_PORT'],
    ['produce with cachePackets -1', () => router.produce(onMux, t, { cachePackets: -1 }), 'RangeError', 'ERR_SFU_CACHE_SIZE'],
    ['produce with options 5', () => router.produce(onMux, t, 5 as never), 'TypeError', 'ERR_SFU_ARGUMENT'],
    ['consume(not a producer)', () => router.consume({} as never, onMux, t), 'TypeError', 'ERR_SFU_ARGUMENT'],
    ['createPlainTransport listenIp not an IP', () => router.createPlainTransport({ listenIp: 'nope' } as never), 'TypeError', 'ERR_SFU_PLAIN_LISTEN_IP'],
    ['createPipeTransport listenIp not an IP', () => router.createPipeTransport({ listenIp: 'nope' } as never), 'TypeError', 'ERR_SFU_PIPE_LISTEN_IP'],
  ]);
  // produce() on a connection that never negotiates waits for 'connected' (documented); closing
  // the connection ends the wait with a typed rejection rather than a hang.
  const waiting = router.produce(onMux, t);
  onMux.close();
  await check([['produce, then the connection closes', () => waiting, 'InvalidStateError', 'ERR_PEER_NOT_CONNECTED']]);
  router.close();
  await check([['produce on a closed router', () => router.produce(own, ownT), 'InvalidStateError', 'ERR_SFU_ROUTER_CLOSED']]);
  mux.close();
  await check([['a connection on a closed UdpMux', async () => {
    const p = pc({ udpMux: mux });
    p.addTransceiver('audio');
    await p.setLocalDescription();
  }, 'InvalidStateError', 'ERR_MUX_CLOSED']]);
});

/** Offer/answer between two connections of ours and both connected. */
async function negotiated(offerer: RTCPeerConnection, answerer: RTCPeerConnection): Promise<void> {
  await offerer.setLocalDescription(await offerer.createOffer());
  await answerer.setRemoteDescription(offerer.localDescription!);
  await answerer.setLocalDescription(await answerer.createAnswer());
  await offerer.setRemoteDescription(answerer.localDescription!);
  await Promise.all([offerer.connected(), answerer.connected()]);
}

test('the SFU objects with wrong arguments, closed, twice, and across routers: typed errors or documented no-ops', { timeout: 60_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1', port: 0 });
  const otherMux = await UdpMux.bind({ address: '127.0.0.1', port: 0 });
  cleanup.push(() => mux.close(), () => otherMux.close());
  const router = Router.create(mux);
  const other = Router.create(otherMux);
  cleanup.push(() => router.close(), () => other.close());
  await check([
    ['Router.create with layerSelection 5', () => Router.create(mux, { layerSelection: 5 as never }), 'TypeError', 'ERR_SFU_ARGUMENT'],
  ]);
  // A connected audio publisher and a subscriber with one sendonly audio transceiver, each on `mux`.
  const pubClient = pc();
  pubClient.addTransceiver(new LocalStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
  const pubServer = pc({ udpMux: mux });
  await negotiated(pubClient, pubServer);
  const pubT = pubServer.getTransceivers()[0]!;
  const subServer = pc({ udpMux: mux });
  const subT = subServer.addTransceiver(new LocalStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
  const subT2 = subServer.addTransceiver(new LocalStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
  await negotiated(subServer, pc());
  await check([
    ['produce with tap "yes"', () => router.produce(pubServer, pubT, { tap: 'yes' as never }), 'TypeError', 'ERR_SFU_ARGUMENT'],
    ['produce with ssrc "abc"', () => router.produce(pubServer, pubT, { ssrc: 'abc' as never }), 'RangeError', 'ERR_SFU_SSRC'],
    ['produce with ssrc -1', () => router.produce(pubServer, pubT, { ssrc: -1 }), 'RangeError', 'ERR_SFU_SSRC'],
    ['produce with spatialLayers "abc"', () => router.produce(pubServer, pubT, { spatialLayers: 'abc' as never }), 'TypeError', 'ERR_SFU_ARGUMENT'],
  ]);
  const producer = await router.produce(pubServer, pubT);
  await check([
    ['produce the same stream twice', () => router.produce(pubServer, pubT), 'InvalidStateError', 'ERR_SFU_PRODUCER_EXISTS'],
    ['consume with paused "no"', () => router.consume(producer, subServer, subT, { paused: 'no' as never }), 'TypeError', 'ERR_SFU_ARGUMENT'],
    ['consume with autoLayers 1', () => router.consume(producer, subServer, subT, { autoLayers: 1 as never }), 'TypeError', 'ERR_SFU_ARGUMENT'],
    ['consume with preferredLayers 2', () => router.consume(producer, subServer, subT, { preferredLayers: 2 as never }), 'TypeError', 'ERR_SFU_ARGUMENT'],
    ['consume with spatialLayer 1 of a single stream', () => router.consume(producer, subServer, subT, { preferredLayers: { spatialLayer: 1 } }), 'RangeError', 'ERR_SFU_LAYER'],
    ["consume another router's producer", () => other.consume(producer, subServer, subT), 'InvalidAccessError', 'ERR_SFU_OTHER_ROUTER'],
    ['producer.tap = 1', () => { producer.tap = 1 as never; }, 'TypeError', 'ERR_SFU_ARGUMENT'],
    ['producer.requestKeyFrame("1")', () => producer.requestKeyFrame('1' as never), 'TypeError', 'ERR_SFU_ARGUMENT'],
    ['producer.requestKeyFrame(layer 3)', () => producer.requestKeyFrame(3), 'RangeError', 'ERR_SFU_LAYER'],
    ['producer.requestKeyFrame(layer 0.5)', () => producer.requestKeyFrame(0.5), 'RangeError', 'ERR_SFU_LAYER'],
  ]);
  const consumer = await router.consume(producer, subServer, subT);
  await check([
    ['consume on a sender that already carries a consumer', () => router.consume(producer, subServer, subT), 'InvalidStateError', 'ERR_SFU_CONSUMER_EXISTS'],
    ['setPreferredLayers(5)', () => consumer.setPreferredLayers(5 as never), 'TypeError', 'ERR_SFU_ARGUMENT'],
    ['setPreferredLayers temporalLayer 9', () => consumer.setPreferredLayers({ spatialLayer: 0, temporalLayer: 9 }), 'RangeError', 'ERR_SFU_LAYER'],
    ['setAutoLayers("on")', () => consumer.setAutoLayers('on' as never), 'TypeError', 'ERR_SFU_ARGUMENT'],
  ]);
  // Documented no-ops: resume what is not paused, pause twice, close twice.
  consumer.resume();
  consumer.pause();
  consumer.pause();
  assert.equal(consumer.paused, true);
  consumer.resume();
  producer.resume();
  producer.pause();
  producer.pause();
  assert.equal(producer.paused, true);
  producer.resume();
  const closes: string[] = [];
  consumer.on('close', () => closes.push('consumer'));
  producer.on('close', () => closes.push('producer'));
  consumer.on('producerclose', () => closes.push('producerclose'));
  consumer.close();
  consumer.close();
  await check([
    ['consumer.getStats() after close', () => consumer.getStats(), 'InvalidStateError', 'ERR_SFU_CONSUMER_CLOSED'],
    ['consumer.pause() after close', () => consumer.pause(), 'InvalidStateError', 'ERR_SFU_CONSUMER_CLOSED'],
    ['consumer.resume() after close', () => consumer.resume(), 'InvalidStateError', 'ERR_SFU_CONSUMER_CLOSED'],
    ['consumer.setPreferredLayers after close', () => consumer.setPreferredLayers({ spatialLayer: 0 }), 'InvalidStateError', 'ERR_SFU_CONSUMER_CLOSED'],
    ['consumer.setAutoLayers after close', () => consumer.setAutoLayers(true), 'InvalidStateError', 'ERR_SFU_CONSUMER_CLOSED'],
  ]);
  assert.equal(consumer.currentLayers, null);
  const second = await router.consume(producer, subServer, subT2);
  second.on('producerclose', () => closes.push('producerclose'));
  producer.close();
  producer.close();
  assert.deepEqual(closes, ['consumer', 'producerclose', 'producer'], "'close' once each; the open consumer heard 'producerclose'");
  assert.equal(second.closed, false, 'a consumer outlives its producer (documented)');
  await check([
    ['producer.getStats() after close', () => producer.getStats(), 'InvalidStateError', 'ERR_SFU_PRODUCER_CLOSED'],
    ['producer.pause() after close', () => producer.pause(), 'InvalidStateError', 'ERR_SFU_PRODUCER_CLOSED'],
    ['producer.tap = true after close', () => { producer.tap = true; }, 'InvalidStateError', 'ERR_SFU_PRODUCER_CLOSED'],
    ['producer.requestKeyFrame() after close', () => producer.requestKeyFrame(), 'InvalidStateError', 'ERR_SFU_PRODUCER_CLOSED'],
    ['consume a closed producer', () => router.consume(producer, subServer, subT), 'InvalidStateError', 'ERR_SFU_PRODUCER_CLOSED'],
  ]);
  const plain = router.createPlainTransport({ listenIp: '127.0.0.1' });
  await check([
    ['plainTransport.consume(null)', () => plain.consume(null as never), 'TypeError', 'ERR_SFU_ARGUMENT'],
    ['plainTransport.consume(a closed producer)', () => plain.consume(producer), 'InvalidStateError', 'ERR_SFU_PRODUCER_CLOSED'],
  ]);
  router.close();
  router.close();
  assert.ok(second.closed && plain.closed, 'router.close() closes its consumers and transports');
  await check([
    ['consume on a closed router', () => router.consume(producer, subServer, subT), 'InvalidStateError', 'ERR_SFU_ROUTER_CLOSED'],
    ['createPlainTransport on a closed router', () => router.createPlainTransport({ listenIp: '127.0.0.1' }), 'InvalidStateError', 'ERR_SFU_ROUTER_CLOSED'],
    ['createPipeTransport on a closed router', () => router.createPipeTransport({ listenIp: '127.0.0.1' }), 'InvalidStateError', 'ERR_SFU_ROUTER_CLOSED'],
  ]);
});

test('no uncaught exception or unhandled rejection came out of any of the above', async () => {
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(faults, []);
});
