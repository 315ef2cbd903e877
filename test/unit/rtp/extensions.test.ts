// Typed header extension helpers: wire layouts of mid/rid, abs-send-time, transport-cc, RFC 6464
// audio level, abs-capture-time, CVO, playout-delay and the dependency descriptor's mandatory fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { parseSdesId, serializeSdesId } from '../../../lib/rtp/extensions/sdes-id.js';
import { absSendTimeFromMs, absSendTimeToMs, parseAbsSendTime, serializeAbsSendTime } from '../../../lib/rtp/extensions/abs-send-time.js';
import { parseTransportCcSequence, serializeTransportCcSequence } from '../../../lib/rtp/extensions/transport-cc.js';
import { parseAudioLevel, serializeAudioLevel } from '../../../lib/rtp/extensions/audio-level.js';
import { parseAbsCaptureTime, serializeAbsCaptureTime } from '../../../lib/rtp/extensions/abs-capture-time.js';
import { parseVideoOrientation, serializeVideoOrientation } from '../../../lib/rtp/extensions/video-orientation.js';
import { parsePlayoutDelay, serializePlayoutDelay } from '../../../lib/rtp/extensions/playout-delay.js';
import { parseDependencyDescriptorMandatory } from '../../../lib/rtp/extensions/dependency-descriptor.js';
import type { PwtError } from '../../../lib/common/errors.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('mid / rid are the UTF-8 text; trailing NULs ignored; empty or >255 bytes refused', () => {
  assert.deepEqual(serializeSdesId('0'), Buffer.from('0'));
  assert.equal(parseSdesId(Buffer.from('hi\0\0')), 'hi');
  assert.equal(parseSdesId(serializeSdesId('médiä')), 'médiä');
  assert.throws(() => serializeSdesId(''), (e: PwtError) => e.code === 'ERR_RTP_SDES_ID_LENGTH');
  assert.throws(() => serializeSdesId('x'.repeat(256)), (e: PwtError) => e.code === 'ERR_RTP_SDES_ID_LENGTH');
});

test('abs-send-time is 24-bit 6.18 seconds (one second = 0x040000)', () => {
  assert.deepEqual(serializeAbsSendTime(absSendTimeFromMs(1000)), hex('040000'));
  assert.equal(absSendTimeFromMs(64000), 0, 'wraps at 64 s');
  assert.equal(absSendTimeToMs(0x020000), 500);
  assert.equal(parseAbsSendTime(hex('123456')), 0x123456);
  assert.equal(parseAbsSendTime(hex('1234')), null);
  assert.throws(() => serializeAbsSendTime(0x1000000), (e: PwtError) => e.code === 'ERR_RTP_ABS_SEND_TIME');
});

test('transport-wide sequence number is 16-bit big-endian; the 4-byte -02 form is read too', () => {
  assert.deepEqual(serializeTransportCcSequence(0xabcd), hex('abcd'));
  assert.equal(parseTransportCcSequence(hex('abcd')), 0xabcd);
  assert.equal(parseTransportCcSequence(hex('0102 8005')), 0x0102);
  assert.equal(parseTransportCcSequence(hex('01')), null);
  assert.throws(() => serializeTransportCcSequence(70000), (e: PwtError) => e.code === 'ERR_RTP_TRANSPORT_CC_SEQUENCE');
});

test('audio level (RFC 6464 §3): V bit then -dBov', () => {
  assert.deepEqual(serializeAudioLevel({ voiceActivity: true, level: 0x21 }), hex('a1'));
  assert.deepEqual(parseAudioLevel(hex('7f')), { voiceActivity: false, level: 127 });
  assert.deepEqual(parseAudioLevel(hex('8000')), { voiceActivity: true, level: 0 });
  assert.equal(parseAudioLevel(hex('')), null);
  assert.throws(() => serializeAudioLevel({ voiceActivity: false, level: 128 }), (e: PwtError) => e.code === 'ERR_RTP_AUDIO_LEVEL');
});

test('abs-capture-time: UQ32.32 NTP and an optional signed Q32.32 offset', () => {
  const v8 = serializeAbsCaptureTime({ absoluteCaptureTimestamp: 0x0102030405060708n });
  assert.deepEqual(v8, hex('0102030405060708'));
  assert.deepEqual(parseAbsCaptureTime(v8), { absoluteCaptureTimestamp: 0x0102030405060708n });
  const v16 = serializeAbsCaptureTime({ absoluteCaptureTimestamp: 1n, estimatedCaptureClockOffset: -1n });
  assert.deepEqual(v16, hex('0000000000000001 ffffffffffffffff'));
  assert.deepEqual(parseAbsCaptureTime(v16), { absoluteCaptureTimestamp: 1n, estimatedCaptureClockOffset: -1n });
  assert.equal(parseAbsCaptureTime(hex('00')), null);
});

test('video orientation (3GPP TS 26.114 §7.4.5): 0000 C F R1 R0', () => {
  assert.deepEqual(serializeVideoOrientation({ backCamera: true, flip: false, rotation: 270 }), hex('0b'));
  assert.deepEqual(parseVideoOrientation(hex('05')), { backCamera: false, flip: true, rotation: 90 });
  assert.equal(parseVideoOrientation(hex('')), null);
  assert.throws(() => serializeVideoOrientation({ backCamera: false, flip: false, rotation: 45 as 90 }), (e: PwtError) => e.code === 'ERR_RTP_VIDEO_ORIENTATION');
});

test('hostile values: every parser returns a value or null for any bytes, never throws', () => {
  const parsers: ((d: Uint8Array) => unknown)[] = [parseSdesId, parseAbsSendTime, parseTransportCcSequence, parseAudioLevel,
    parseAbsCaptureTime, parseVideoOrientation, parsePlayoutDelay, parseDependencyDescriptorMandatory];
  fc.assert(fc.property(fc.uint8Array({ maxLength: 20 }), fc.nat(4), (arr, cut) => {
    // A view at an odd offset into a larger buffer, as getExtension returns.
    const view = Buffer.from([0, ...arr, 0]).subarray(1 + Math.min(cut, arr.length), 1 + arr.length);
    for (const parse of parsers) parse(view);
  }), { numRuns: 200 });
});

test('playout delay: two 12-bit values in 10 ms units', () => {
  assert.deepEqual(serializePlayoutDelay({ minMs: 100, maxMs: 40950 }), hex('00afff'));
  assert.deepEqual(parsePlayoutDelay(hex('00afff')), { minMs: 100, maxMs: 40950 });
  assert.equal(parsePlayoutDelay(hex('0000')), null);
  assert.throws(() => serializePlayoutDelay({ minMs: 0, maxMs: 41000 }), (e: PwtError) => e.code === 'ERR_RTP_PLAYOUT_DELAY');
  fc.assert(fc.property(fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 0, max: 4095 }), (a, b) => {
    assert.deepEqual(parsePlayoutDelay(serializePlayoutDelay({ minMs: a * 10, maxMs: b * 10 })), { minMs: a * 10, maxMs: b * 10 });
  }), { numRuns: 100 });
});

test('dependency descriptor mandatory fields (AV1 RTP spec A.8.1)', () => {
  assert.deepEqual(parseDependencyDescriptorMandatory(hex('c5 1234 ffff')), {
    startOfFrame: true, endOfFrame: true, frameDependencyTemplateId: 5, frameNumber: 0x1234,
  });
  assert.equal(parseDependencyDescriptorMandatory(hex('c5')), null);
});

test('typed helpers compose with RtpPacket: write by id, read back from the wire', () => {
  const p = new RtpPacket({ payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3, payload: Buffer.from([1]) });
  p.setExtension(1, serializeSdesId('video0'));
  p.setExtension(3, serializeTransportCcSequence(513));
  p.setExtension(4, serializeAudioLevel({ voiceActivity: true, level: 30 }));
  const q = RtpPacket.parse(p.serialize());
  assert.equal(parseSdesId(q.getExtension(1)!), 'video0');
  assert.equal(parseTransportCcSequence(q.getExtension(3)!), 513);
  assert.deepEqual(parseAudioLevel(q.getExtension(4)!), { voiceActivity: true, level: 30 });
});
