// Writes the committed seed corpora under test/fuzz/corpus/<target>/ from the test fixtures and
// our own encoders (RFC layouts cited per seed). Run: npx tsx test/fuzz/make-corpus.ts
// Native seeds (srtp-*, dtls-*) are written by the replay driver's --write-seeds mode instead.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SeededRng } from '../../lib/common/rng.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { StunMessage } from '../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../lib/ice/stun-constants.js';
import { encodeChannelData } from '../../lib/ice/channel-data.js';
import { SctpAssociation } from '../../lib/sctp/association.js';
import { encodeDcepOpen, encodeDcepAck } from '../../lib/sctp/dcep.js';
import { readIvf, writeIvf } from '../../lib/media/ivf.js';
import { readOggOpus, writeOggOpus } from '../../lib/media/ogg-opus.js';
import { splitAnnexB, joinAnnexB } from '../../lib/media/annex-b.js';
import { OpusPacketizer, opusPacketSamples } from '../../lib/media/opus-payload.js';
import { Vp8Packetizer } from '../../lib/media/vp8-payload.js';
import { Vp9Packetizer } from '../../lib/media/vp9-payload.js';
import { H264Packetizer } from '../../lib/media/h264-payload.js';
import { Av1Packetizer } from '../../lib/media/av1-payload.js';
import { CORPUS_ROOT } from './fuzz-target.js';
import { joinPayloads, DEPACKETIZER_CODECS } from './media-depacketizers.fuzz.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = join(root, 'test', 'fixtures');

function write(target: string, seeds: Record<string, Uint8Array | string>): void {
  // Seeds are overwritten by name; reproducers added by fuzz runs (finding-*) stay.
  const dir = join(CORPUS_ROOT, target);
  mkdirSync(dir, { recursive: true });
  for (const [name, data] of Object.entries(seeds)) writeFileSync(join(dir, name), data);
}

// RTP and RTCP: the hand-checked fixture packets (test/fixtures/rtp/packets.json) plus two-byte
// extensions (RFC 8285 §4.3), CSRCs and padding (RFC 3550 §5.1).
const fixturePackets = (JSON.parse(readFileSync(join(fixtures, 'rtp', 'packets.json'), 'utf8')) as { packets: { kind: string; hex: string }[] }).packets;
const rtpSeeds: Record<string, Uint8Array> = {};
const rtcpSeeds: Record<string, Uint8Array> = {};
fixturePackets.forEach((p, i) => {
  (p.kind === 'rtp' ? rtpSeeds : rtcpSeeds)[`fixture-${i}`] = Buffer.from(p.hex, 'hex');
});
const twoByte = new RtpPacket({ payloadType: 96, sequenceNumber: 65535, timestamp: 0xffffffff, ssrc: 1, csrcs: [2, 3], marker: true, paddingSize: 4, extensionForm: 'two-byte', payload: Buffer.from('0123456789') });
twoByte.setExtension(1, Buffer.alloc(0));
twoByte.setExtension(20, Buffer.alloc(20, 0xab));
rtpSeeds['two-byte-ext-csrc-padding'] = twoByte.serialize();
write('rtp-packet', rtpSeeds);
write('rtcp', rtcpSeeds);
// The native SRTP targets protect the clear packet themselves, so the same packets seed them.
write('srtp-rtp', rtpSeeds);
write('srtp-rtcp', rtcpSeeds);

// STUN (RFC 8489 §14, RFC 8445 §7.1.2): an ICE check with integrity and fingerprint, a success
// response with XOR-MAPPED-ADDRESS, an error response with UNKNOWN-ATTRIBUTES.
const tid = Buffer.from('b7e7a701bc34d686fa87dfae', 'hex');
const check = new StunMessage(StunMethod.Binding, StunClass.Request, tid)
  .addString(StunAttr.Username, 'evtj:h6vY')
  .add(StunAttr.Priority, Buffer.from('6e0001ff', 'hex'))
  .add(StunAttr.IceControlled, Buffer.from('932ff9b151263b36', 'hex'));
const checkBytes = check.encode({ integrityKey: Buffer.from('VOkJxbRl1RmTxUk/WvJxBt'), fingerprint: true });
const success = new StunMessage(StunMethod.Binding, StunClass.SuccessResponse, tid)
  .addAddress(StunAttr.XorMappedAddress, { address: '192.0.2.1', port: 32853 })
  .encode({ fingerprint: true });
const success6 = new StunMessage(StunMethod.Binding, StunClass.SuccessResponse, tid)
  .addAddress(StunAttr.XorMappedAddress, { address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 })
  .encode({ integritySha256Key: Buffer.alloc(16, 7), fingerprint: true });
const error = new StunMessage(StunMethod.Binding, StunClass.ErrorResponse, tid).addErrorCode(420, 'Unknown Attribute').addUnknownAttributes([0x0024, 0x8029]).encode();
write('stun', { 'ice-check': checkBytes, 'success-ipv4': success, 'success-ipv6-sha256': success6, 'error-420': error });

// TURN ChannelData (RFC 8656 §12.4) and the stream framer (§12.5: STUN, then padded ChannelData).
write('channel-data', { padded: encodeChannelData(0x4000, Buffer.from('hello'), true), exact: encodeChannelData(0x4fff, Buffer.alloc(8, 1)) });
write('stun-stream-framer', {
  'stun-then-channel-data': Buffer.concat([Buffer.from([5]), checkBytes, encodeChannelData(0x4001, Buffer.from('abc'), true), success]),
  'one-byte-chunks': Buffer.concat([Buffer.from([0]), encodeChannelData(0x4002, Buffer.alloc(33, 2), true), error]),
});

// SDP: offers and answers from Chromium, werift and aiortc (test/fixtures/sdp).
write('sdp', {
  'offer-from-chromium.sdp': readFileSync(join(fixtures, 'sdp', 'offer-from-chromium.sdp')),
  'answer-from-werift.sdp': readFileSync(join(fixtures, 'sdp', 'answer-from-werift.sdp')),
  'answer-from-aiortc.sdp': readFileSync(join(fixtures, 'sdp', 'answer-from-aiortc.sdp')),
  'offer-from-pion.sdp': readFileSync(join(fixtures, 'sdp', 'offer-from-pion.sdp')),
});

// Trickle ICE fragments (RFC 8840 §9.2) as WHIP PATCH bodies carry them (RFC 9725 §4.3): a trickle
// with end-of-candidates, and an ICE restart fragment with new credentials and two candidates.
write('ice-fragment', {
  'trickle.sdpfrag': 'a=ice-options:trickle ice2\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n' +
    'a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1\r\na=end-of-candidates\r\n',
  'restart.sdpfrag': 'm=video 9 UDP/TLS/RTP/SAVPF 96\na=mid:1\na=ice-ufrag:Zy2n\na=ice-pwd:Qa8b3pd3vLx7LiVAi1Zq49b1\n' +
    'a=candidate:2 1 UDP 1694498815 198.51.100.7 42001 typ srflx raddr 10.0.0.1 rport 42001\na=candidate:3 1 tcp 1518280447 10.0.0.1 9 typ host tcptype active\n',
});

// SCTP (RFC 9260 §5.1 handshake, §6 DATA/SACK, RFC 6525 RE-CONFIG): every packet of a handshake
// plus a message each way and a stream reset between two of our associations.
{
  const a = new SctpAssociation({ rng: new SeededRng(1) });
  const b = new SctpAssociation({ rng: new SeededRng(2) });
  const seeds: Record<string, Uint8Array> = {};
  let n = 0;
  let now = 0;
  const pump = (): void => {
    for (let moved = true; moved; ) {
      moved = false;
      for (const [from, to] of [[a, b], [b, a]] as const) {
        for (let p = from.pollTransmit(); p; p = from.pollTransmit()) {
          seeds[`packet-${String(n++).padStart(2, '0')}`] = p;
          to.handleInput(++now, p);
          moved = true;
        }
      }
    }
  };
  a.connect(now);
  pump();
  a.send(++now, 1, 50, encodeDcepOpen({ channelType: 0, priority: 256, reliabilityParameter: 0, label: 'chat', protocol: '' }));
  b.send(++now, 1, 51, Buffer.from('a message'));
  pump();
  a.resetStreams(++now, [1]);
  pump();
  write('sctp-packet', seeds);
}

// DCEP (RFC 8832 §5.1, §5.2): OPEN of each channel type, ACK.
write('dcep', {
  'open-reliable': encodeDcepOpen({ channelType: 0x00, priority: 256, reliabilityParameter: 0, label: 'chat', protocol: 'json' }),
  'open-unordered-rexmit': encodeDcepOpen({ channelType: 0x81, priority: 128, reliabilityParameter: 3, label: 'lossy', protocol: '' }),
  'open-timed': encodeDcepOpen({ channelType: 0x02, priority: 1024, reliabilityParameter: 150, label: 'é', protocol: 'x' }),
  ack: encodeDcepAck(),
});

// Media containers: the fixture files cut to their first frames/packets (a few KB each).
const ivfSeeds: Record<string, Uint8Array> = {};
const frames: Record<string, Buffer[]> = {};
for (const codec of ['vp8', 'vp9', 'av1']) {
  const file = readIvf(readFileSync(join(fixtures, 'media', `${codec}.ivf`)));
  // Frame parsers read only headers, so frames are cut to 400 bytes to keep the seeds small.
  const first = file.frames.slice(0, 3).map((f) => ({ ...f, data: f.data.subarray(0, 400) }));
  ivfSeeds[`${codec}.ivf`] = writeIvf({ ...file.header, frameCount: first.length }, first);
  frames[codec] = first.map((f) => f.data);
}
write('ivf', ivfSeeds);
const ogg = readOggOpus(readFileSync(join(fixtures, 'media', 'opus.ogg')));
const oggFirst = ogg.packets.slice(0, 4);
write('ogg-opus', { 'opus.ogg': writeOggOpus({ ...ogg, packets: oggFirst, finalGranulePosition: BigInt(oggFirst.reduce((n, p) => n + (opusPacketSamples(p) ?? 0), 0)) }) });
const nals = splitAnnexB(readFileSync(join(fixtures, 'media', 'h264.h264')));
const smallNals = nals.filter((u) => u.data.length < 800).slice(0, 8);
write('annex-b', { 'h264-first-units': joinAnnexB(smallNals) });

// Depacketizers: real payloads of each codec's packetizer at a small MTU, so frames span packets.
{
  const mtu = 200;
  const seeds: Record<string, Uint8Array> = {};
  const codecIndex = (c: string): number => DEPACKETIZER_CODECS.indexOf(c as never);
  seeds.opus = joinPayloads(codecIndex('opus'), oggFirst.slice(0, 3).flatMap((p) => new OpusPacketizer().packetize(p, mtu)));
  seeds.vp8 = joinPayloads(codecIndex('vp8'), new Vp8Packetizer({ initialPictureId: 100 }).packetize(frames.vp8![1] ?? frames.vp8![0]!, mtu).slice(0, 6));
  seeds.vp9 = joinPayloads(codecIndex('vp9'), new Vp9Packetizer().packetize(frames.vp9![1] ?? frames.vp9![0]!, mtu).slice(0, 6));
  seeds.av1 = joinPayloads(codecIndex('av1'), new Av1Packetizer().packetize(frames.av1![1] ?? frames.av1![0]!, mtu).slice(0, 6));
  seeds.h264 = joinPayloads(codecIndex('h264'), new H264Packetizer().packetize(joinAnnexB(smallNals.slice(0, 4)), mtu).slice(0, 8));
  write('media-depacketizers', seeds);
}
