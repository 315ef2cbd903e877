// DCEP messages (RFC 8832 section 5) byte layouts and channel-type mapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeDcepAck, encodeDcepOpen, fromChannelType, parseDcep, toChannelType } from '../../../lib/sctp/dcep.js';

test('DATA_CHANNEL_OPEN layout (RFC 8832 section 5.1)', () => {
  const b = encodeDcepOpen({ channelType: 0x81, priority: 256, reliabilityParameter: 5, label: 'chat', protocol: 'p' });
  assert.deepEqual([...b], [0x03, 0x81, 0x01, 0x00, 0, 0, 0, 5, 0, 4, 0, 1, 0x63, 0x68, 0x61, 0x74, 0x70]);
  assert.deepEqual(parseDcep(b), { type: 'open', open: { channelType: 0x81, priority: 256, reliabilityParameter: 5, label: 'chat', protocol: 'p' } });
});

test('DATA_CHANNEL_ACK is the single byte 0x02 (RFC 8832 section 5.2)', () => {
  assert.deepEqual([...encodeDcepAck()], [2]);
  assert.deepEqual(parseDcep(Buffer.from([2])), { type: 'ack' });
});

test('malformed DCEP is refused', () => {
  assert.equal(parseDcep(Buffer.alloc(0)), undefined);
  assert.equal(parseDcep(Buffer.from([3, 0, 0, 0])), undefined);
  const b = encodeDcepOpen({ channelType: 0, priority: 0, reliabilityParameter: 0, label: 'abc', protocol: '' });
  assert.equal(parseDcep(b.subarray(0, b.length - 1)), undefined);
  assert.equal(parseDcep(Buffer.from([7])), undefined);
});

test('all six channel types map to and from W3C reliability settings', () => {
  const cases = [
    [{ ordered: true, maxRetransmits: null, maxPacketLifeTime: null }, 0x00, 0],
    [{ ordered: false, maxRetransmits: null, maxPacketLifeTime: null }, 0x80, 0],
    [{ ordered: true, maxRetransmits: 4, maxPacketLifeTime: null }, 0x01, 4],
    [{ ordered: false, maxRetransmits: 4, maxPacketLifeTime: null }, 0x81, 4],
    [{ ordered: true, maxRetransmits: null, maxPacketLifeTime: 150 }, 0x02, 150],
    [{ ordered: false, maxRetransmits: null, maxPacketLifeTime: 150 }, 0x82, 150],
  ] as const;
  for (const [rel, type, param] of cases) {
    assert.deepEqual(toChannelType(rel), { channelType: type, reliabilityParameter: param });
    assert.deepEqual(fromChannelType(type, param), rel);
  }
  assert.equal(fromChannelType(0x03, 0), undefined);
});
