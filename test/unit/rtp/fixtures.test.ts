// Hand-checked fixtures (test/fixtures/rtp/packets.json): fields as annotated, written back byte-exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { unwrapRtx } from '../../../lib/rtp/rtx.js';
import { parseRtcp, serializeRtcp } from '../../../lib/rtp/rtcp/compound.js';
import { parseAbsSendTime } from '../../../lib/rtp/extensions/abs-send-time.js';
import { parseTransportCcSequence } from '../../../lib/rtp/extensions/transport-cc.js';
import { parseSdesId } from '../../../lib/rtp/extensions/sdes-id.js';
import { parseAudioLevel } from '../../../lib/rtp/extensions/audio-level.js';
import { parseDependencyDescriptorMandatory } from '../../../lib/rtp/extensions/dependency-descriptor.js';
import { isRtcp } from '../../../lib/rtp/demux.js';

interface Fixture {
  name: string;
  kind: 'rtp' | 'rtcp';
  hex: string;
  expect: Record<string, unknown> & {
    absSendTime?: { id: number; value: number };
    transportCc?: { id: number; value: number };
    mid?: { id: number; value: string };
    audioLevel?: { id: number; voiceActivity: boolean; level: number };
    dependencyDescriptor?: { id: number; frameNumber: number; templateId: number; startOfFrame: boolean; endOfFrame: boolean };
    kinds?: string[];
    rr?: { ssrc: number; reportSsrc: number; highestSequence: number; jitter: number; lastSr: number; delaySinceLastSr: number };
    cname?: string;
    deltas?: (number | null)[];
  };
}

const fixtures = (JSON.parse(readFileSync(new URL('../../fixtures/rtp/packets.json', import.meta.url), 'utf8')) as { packets: Fixture[] }).packets;

for (const f of fixtures) {
  test(`fixture: ${f.name}`, () => {
    const bytes = Buffer.from(f.hex, 'hex');
    assert.equal(isRtcp(bytes), f.kind === 'rtcp');
    const e = f.expect;
    if (f.kind === 'rtp') {
      const p = RtpPacket.parse(bytes);
      for (const k of ['marker', 'payloadType', 'sequenceNumber', 'timestamp', 'ssrc', 'payloadLength', 'paddingSize'] as const) {
        if (k in e) assert.equal(p[k], e[k], k);
      }
      if (e.absSendTime) assert.equal(parseAbsSendTime(p.getExtension(e.absSendTime.id)!), e.absSendTime.value);
      if (e.transportCc) assert.equal(parseTransportCcSequence(p.getExtension(e.transportCc.id)!), e.transportCc.value);
      if (e.mid) assert.equal(parseSdesId(p.getExtension(e.mid.id)!), e.mid.value);
      if (e.audioLevel) assert.deepEqual(parseAudioLevel(p.getExtension(e.audioLevel.id)!), { voiceActivity: e.audioLevel.voiceActivity, level: e.audioLevel.level });
      if (e.dependencyDescriptor) {
        const dd = parseDependencyDescriptorMandatory(p.getExtension(e.dependencyDescriptor.id)!)!;
        assert.equal(p.getExtension(e.dependencyDescriptor.id)!.length, 17);
        assert.deepEqual([dd.frameNumber, dd.frameDependencyTemplateId, dd.startOfFrame, dd.endOfFrame],
          [e.dependencyDescriptor.frameNumber, e.dependencyDescriptor.templateId, e.dependencyDescriptor.startOfFrame, e.dependencyDescriptor.endOfFrame]);
      }
      if (p.payloadType === 97) assert.equal(unwrapRtx(p, { ssrc: 1, payloadType: 96 }), null);
      assert.deepEqual(p.serialize(), bytes);
    } else {
      const pkts = parseRtcp(bytes);
      assert.deepEqual(pkts.map((x) => x.kind), e.kinds);
      const rr = pkts[0]!;
      if (e.rr && rr.kind === 'rr') {
        const b = rr.reports[0]!;
        assert.deepEqual([rr.ssrc, b.ssrc, b.highestSequence, b.jitter, b.lastSr, b.delaySinceLastSr],
          [e.rr.ssrc, e.rr.reportSsrc, e.rr.highestSequence, e.rr.jitter, e.rr.lastSr, e.rr.delaySinceLastSr]);
      }
      const sdes = pkts.find((x) => x.kind === 'sdes');
      if (e.cname && sdes?.kind === 'sdes') assert.equal(sdes.findText(1, 1), e.cname);
      const twcc = pkts[0]!;
      if (e.deltas && twcc.kind === 'transport-cc') assert.deepEqual(twcc.packets().map((x) => x.deltaTicks), e.deltas);
      assert.deepEqual(serializeRtcp(pkts), bytes);
    }
  });
}
