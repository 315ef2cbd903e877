// a=rtcp-xr (RFC 3611 §5.1): rcvr-rtt parsed liberally (other XR formats and malformed values
// ignored), serialized back, offered only when asked (a module serves it) and answered only when
// both the offer has rcvr-rtt=all and the answerer serves it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAnswer, createOffer, describeRtpSection, parseSdp, serializeSdp, type SdpSessionDescription } from '../../../lib/sdp/index.js';
import { localTransport, servedCodecs, servedExtensions, SESSION } from './helpers.js';

function offerWith(...lines: string[]): SdpSessionDescription {
  return parseSdp([
    'v=0', 'o=- 9 1 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=group:BUNDLE 0',
    'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=rtcp-mux', 'a=sendonly',
    'a=ice-ufrag:rmtU', 'a=ice-pwd:remotepasswordremotepass', 'a=fingerprint:sha-256 01:02:03', 'a=setup:actpass',
    'a=rtpmap:96 VP8/90000', ...lines,
  ].join('\r\n') + '\r\n');
}

test('rtcp-xr: rcvr-rtt read liberally, other formats and malformed values ignored', () => {
  const cases: Array<[string[], { mode: 'all' | 'sender'; maxSize?: number } | undefined]> = [
    [['a=rtcp-xr:rcvr-rtt=all'], { mode: 'all' }],
    [['a=rtcp-xr:rcvr-rtt=sender:1000'], { mode: 'sender', maxSize: 1000 }],
    [['a=rtcp-xr:pkt-loss-rle stat-summary=loss,jitt RCVR-RTT=ALL:64 voip-metrics'], { mode: 'all', maxSize: 64 }],
    [['a=rtcp-xr:pkt-loss-rle', 'a=rtcp-xr:rcvr-rtt=all'], { mode: 'all' }],
    [['a=rtcp-xr:'], undefined],
    [['a=rtcp-xr'], undefined],
    [['a=rtcp-xr:rcvr-rtt=some'], undefined],
    [['a=rtcp-xr:rcvr-rtt=all:x'], undefined],
    [['a=rtcp-xr:rcvr-rtt'], undefined],
    [[], undefined],
  ];
  for (const [lines, expected] of cases) {
    const section = offerWith(...lines).media[0]!;
    assert.deepEqual(section.rtcpXrReceiverRtt, expected, lines.join(' | '));
    assert.equal(describeRtpSection(section).receiverRtt, expected?.mode === 'all', lines.join(' | '));
  }
});

test('rtcp-xr: serialized as rcvr-rtt=<mode>[:<max-size>] and parsed back the same', () => {
  for (const line of ['a=rtcp-xr:rcvr-rtt=all', 'a=rtcp-xr:rcvr-rtt=sender:1000']) {
    const model = offerWith(line);
    const text = serializeSdp(model);
    assert.equal(text.split('\r\n').filter((l) => l.startsWith('a=rtcp-xr')).join(), line);
    assert.deepEqual(parseSdp(text), model);
  }
});

test('rtcp-xr: offered only with receiverRtt; answered only when offered with rcvr-rtt=all and served', () => {
  const offer = (receiverRtt: boolean | undefined) => serializeSdp(createOffer({
    session: SESSION, transport: localTransport(),
    transceivers: [{ mid: '0', kind: 'video', direction: 'recvonly', ...(receiverRtt === undefined ? {} : { receiverRtt }) }],
  }));
  assert.match(offer(true), /\r\na=rtcp-xr:rcvr-rtt=all\r\n/);
  assert.doesNotMatch(offer(false), /rtcp-xr/);
  assert.doesNotMatch(offer(undefined), /rtcp-xr/);

  const answer = (remote: SdpSessionDescription, receiverRtt: boolean) => {
    const a = createAnswer(remote, {
      session: SESSION, transport: localTransport(), codecs: servedCodecs(), headerExtensions: servedExtensions(),
      media: { '0': { direction: 'recvonly', receiverRtt } },
    });
    return { model: a, text: serializeSdp(a) };
  };
  const served = answer(offerWith('a=rtcp-xr:rcvr-rtt=all'), true);
  assert.match(served.text, /\r\na=rtcp-xr:rcvr-rtt=all\r\n/);
  assert.equal(describeRtpSection(served.model.media[0]!).receiverRtt, true);
  assert.doesNotMatch(answer(offerWith('a=rtcp-xr:rcvr-rtt=all'), false).text, /rtcp-xr/, 'not served: not answered');
  assert.doesNotMatch(answer(offerWith(), true).text, /rtcp-xr/, 'not offered: not answered');
  assert.doesNotMatch(answer(offerWith('a=rtcp-xr:rcvr-rtt=sender'), true).text, /rtcp-xr/, 'sender mode: a receiver may not send RRTR');
});
