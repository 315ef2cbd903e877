// Simulcast layer selection through a RouterWorkerPool (docs/scaling.md "Routers on worker threads",
// docs/sfu.md "Simulcast and temporal layers"), over real loopback sockets: a publisher of ours
// sends three rid layers of VP8 to a room on a router worker; a consumer made with preferredLayers
// gets layer 0, WorkerRoom.setPreferredLayers moves it to layer 2, each completed switch reaches the
// main thread as a 'layerschange' event, and a layer the producer does not have is refused typed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../../../lib/peer/index.js';
import { RtpPacket } from '../../../../lib/rtp/rtp-packet.js';
import { RouterWorkerPool, type ConsumerLayers } from '../../../../lib/sfu/index.js';
import { within } from '../../../integration/peer-helpers.js';

const RIDS = ['q', 'h', 'f'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** VP8 payload (RFC 7741 §4.2): descriptor with a 15-bit PictureID, key frame or not, then a marker naming the layer. */
function vp8(pid: number, key: boolean, start: boolean, mark: string): Buffer {
  const d = [0x80 | (start ? 0x10 : 0), 0x80, 0x80 | ((pid >> 8) & 0x7f), pid & 0xff];
  return Buffer.concat([Buffer.from(d), Buffer.from([start ? (key ? 0x10 : 0x11) : 0x42]), Buffer.from(mark)]);
}

test('router workers: consume with preferredLayers, setPreferredLayers through the worker, layerschange on the main thread', { timeout: 60_000 }, async () => {
  const pool = await RouterWorkerPool.create({ workers: 1, address: '127.0.0.1' });
  const publisher = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const subscriber = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  let stop = false;
  try {
    const room = await pool.createRoom();
    const source = new LocalStreamTrack({ kind: 'video' });
    publisher.addTransceiver(source, { direction: 'sendonly', sendEncodings: RIDS.map((rid) => ({ rid })) });
    await publisher.setLocalDescription(await publisher.createOffer());
    const pub = await room.answer(publisher.localDescription!.sdp);
    await publisher.setRemoteDescription({ type: 'answer', sdp: pub.answer });
    await within(publisher.connected(), 15_000, 'publisher connected');
    const { producer } = await within(room.produce(pub.peer, publisher.getTransceivers()[0]!.mid!), 15_000, 'produce');

    // Key frames on every layer, one frame per layer every 30 ms, until the test ends.
    void (async () => {
      for (let f = 1; !stop; f++) {
        for (let l = 0; l < RIDS.length; l++) {
          for (let k = 0; k < 2; k++) {
            source.send(new RtpPacket({ timestamp: 3000 * f, marker: k === 1, payload: vp8(f & 0x7fff, true, k === 0, `L${l}`) }), { rid: RIDS[l]! });
          }
        }
        await sleep(30);
      }
    })();

    const track = new Promise<MediaStreamTrack>((r) => subscriber.once('track', (e) => r(e.track)));
    const sub = await room.offer(['video']);
    await subscriber.setRemoteDescription({ type: 'offer', sdp: sub.offer });
    await subscriber.setLocalDescription(await subscriber.createAnswer());
    await room.accept(sub.peer, subscriber.localDescription!.sdp);
    await within(subscriber.connected(), 15_000, 'subscriber connected');
    const changes: { consumer: number; layers: ConsumerLayers }[] = [];
    room.on('layerschange', (e) => changes.push(e));
    const { consumer } = await within(room.consume(producer, sub.peer, subscriber.getTransceivers()[0]!.mid!, { preferredLayers: { spatialLayer: 0 } }), 15_000, 'consume');
    const received = await within(track, 5000, 'subscriber track');
    const marks: string[] = [];
    void (async () => {
      for await (const p of received) marks.push(p.payload.subarray(5).toString());
    })();

    const until = async (cond: () => boolean, what: string): Promise<void> => within((async () => {
      while (!cond()) await sleep(10);
    })(), 15_000, what);
    await until(() => changes.some((c) => c.consumer === consumer && c.layers.spatialLayer === 0), "'layerschange' to layer 0 on the main thread");
    await until(() => marks.includes('L0'), 'layer 0 packets');
    assert.deepEqual(changes[0], { consumer, layers: { spatialLayer: 0, temporalLayer: 0 } });

    assert.deepEqual(await room.setPreferredLayers(consumer, { spatialLayer: 2 }), { spatialLayer: 2 });
    await until(() => changes.some((c) => c.layers.spatialLayer === 2), "'layerschange' to layer 2 on the main thread");
    const at = marks.length;
    await until(() => marks.length >= at + 6 && marks.slice(-4).every((m) => m === 'L2'), 'layer 2 packets');
    assert.ok(!marks.includes('L1'), 'never layer 1');
    const stats = await room.stats();
    assert.equal(stats.consumers[consumer]!.pwtCurrentSpatialLayer, 2);
    assert.equal(stats.router.jsDeliveries, 0);

    await assert.rejects(room.setPreferredLayers(consumer, { spatialLayer: 3 }), { name: 'RangeError', code: 'ERR_SFU_LAYER' });
    await assert.rejects(room.setPreferredLayers(consumer + 1000, { spatialLayer: 0 }), { code: 'ERR_SFU_CONSUMER_CLOSED' });
  } finally {
    stop = true;
    publisher.close();
    subscriber.close();
    await pool.close();
  }
});
