// lib/sfu mapConsumer: payload types matched by codec (mime type + clock rate), extension ids by URI
// with mid/rid stripped, the per-leg abs-send-time / transport-cc ids, and a typed error when no
// codec matches (docs/sfu.md "Rewrite").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapConsumer, SfuCodecMismatchError } from '../../../lib/sfu/index.js';
import { FORWARD_UNMAPPED } from '../../../lib/native/forward.js';
import { ABS_SEND_TIME_URI, SDES_MID_URI, SDES_RTP_STREAM_ID_URI, SSRC_AUDIO_LEVEL_URI, TRANSPORT_CC_URI } from '../../../lib/rtp/extensions/uris.js';

test('mapConsumer maps payload types by codec and extension ids by URI', () => {
  const m = mapConsumer(
    {
      codecs: [{ payloadType: 96, mimeType: 'video/VP8', clockRate: 90000 }, { payloadType: 97, mimeType: 'video/rtx', clockRate: 90000 }],
      headerExtensions: [{ uri: SDES_MID_URI, id: 1 }, { uri: ABS_SEND_TIME_URI, id: 2 }, { uri: TRANSPORT_CC_URI, id: 3 }, { uri: SDES_RTP_STREAM_ID_URI, id: 4 }, { uri: SSRC_AUDIO_LEVEL_URI, id: 5 }],
    },
    {
      codecs: [{ payloadType: 120, mimeType: 'video/vp8', clockRate: 90000 }, { payloadType: 121, mimeType: 'video/rtx', clockRate: 90000 }],
      headerExtensions: [{ uri: SDES_MID_URI, id: 9 }, { uri: TRANSPORT_CC_URI, id: 7 }, { uri: ABS_SEND_TIME_URI, id: 11 }],
    },
  );
  assert.equal(m.payloadTypes[96], 120);
  assert.equal(m.payloadTypes[97], FORWARD_UNMAPPED, 'RTX is not forwarded');
  assert.equal(m.payloadTypes.filter((v) => v !== FORWARD_UNMAPPED).length, 1);
  assert.equal(m.extensionIds[1], 0, 'mid is stripped');
  assert.equal(m.extensionIds[2], 11);
  assert.equal(m.extensionIds[3], 7);
  assert.equal(m.extensionIds[4], 0, 'rid is stripped');
  assert.equal(m.extensionIds[5], 0, 'not negotiated by the consumer');
  assert.equal(m.absSendTimeId, 11);
  assert.equal(m.transportCcId, 7);
  assert.equal(m.clockRate, 90000);
});

test('mapConsumer refuses a consumer without the producer codec', () => {
  assert.throws(
    () => mapConsumer(
      { codecs: [{ payloadType: 111, mimeType: 'audio/opus', clockRate: 48000 }], headerExtensions: [] },
      { codecs: [{ payloadType: 0, mimeType: 'audio/PCMU', clockRate: 8000 }], headerExtensions: [] },
    ),
    (e: unknown) => e instanceof SfuCodecMismatchError && e.name === 'InvalidAccessError' && e.code === 'ERR_SFU_CODEC_MISMATCH',
  );
});
