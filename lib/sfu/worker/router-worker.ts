// The body of a router worker thread (docs/scaling.md "Routers on worker threads"): one UdpMux port
// (its own, or the shared public port with the hand-off), one Router on it, and the rooms, peer
// connections, producers and consumers the main thread asks for. Every request gets one reply; a
// failure crosses back as a typed error, never as an exception in this thread's loop.
import { parentPort, workerData } from 'node:worker_threads';
import { InvalidStateError, PwtError } from '../../common/errors.js';
import { RTCPeerConnection } from '../../peer/peer-connection.js';
import { LocalStreamTrack } from '../../peer/media-stream-track.js';
import type { RTCRtpTransceiver } from '../../peer/rtp-transceiver.js';
// An SFU runs the default policy modules (keyframe requests, NACK, RTCP reports) on every connection.
import '../../policy/default-policies.js';
import { UdpMux } from '../../transport/source/udp-mux.js';
import { ReuseportHandoff } from '../../transport/source/udp-reuseport-handoff.js';
import type { Consumer } from '../consumer.js';
import type { PipeTransport } from '../pipe-transport.js';
import type { Producer } from '../producer.js';
import { Router } from '../router.js';
import type { RouterWorkerData, RouterWorkerStats, WorkerEvent, WorkerReply, WorkerReplies, WorkerRequest, WorkerRoomStats } from './worker-protocol.js';

interface Room {
  readonly peers: Map<number, RTCPeerConnection>;
  readonly producers: Map<number, Producer>;
  readonly consumers: Map<number, Consumer>;
  /** Pipe transports of the room (docs/scaling.md "Pipes between workers"); closed with it. */
  readonly pipes: Map<number, PipeTransport>;
}

// No top-level await: the CommonJS build (scripts/build-js.mjs) compiles this file too.
async function main(): Promise<void> {
  const data = workerData as RouterWorkerData;
  const port = parentPort!;
  const rooms = new Map<number, Room>();
  let nextId = 1;

  const handoff = data.handoff ? ReuseportHandoff.attach(data.index, data.handoff) : undefined;
  const mux = await UdpMux.bind({
    address: data.address,
    announcedAddress: data.announcedAddress,
    port: data.port,
    reusePort: data.reusePort,
    ...(handoff ? { handoff } : {}),
  });
  const router = Router.create(mux);

  function post(message: WorkerReply | WorkerEvent): void {
    port.postMessage(message);
  }

  function room(id: number): Room {
    const r = rooms.get(id);
    if (!r) throw new InvalidStateError('ERR_WORKER_ROOM_CLOSED', `room ${id} is closed`);
    return r;
  }

  function peer(r: Room, id: number): RTCPeerConnection {
    const pc = r.peers.get(id);
    if (!pc) throw new InvalidStateError('ERR_WORKER_PEER_CLOSED', `peer ${id} is not in this room`);
    return pc;
  }

  function transceiver(pc: RTCPeerConnection, mid: string): RTCRtpTransceiver {
    const t = pc.getTransceivers().find((x) => x.mid === mid);
    if (!t) throw new InvalidStateError('ERR_WORKER_NO_MID', `the peer has no transceiver with mid ${mid}`);
    return t;
  }

  function pipe(r: Room, id: number): PipeTransport {
    const p = r.pipes.get(id);
    if (!p || p.closed) throw new InvalidStateError('ERR_WORKER_PIPE_CLOSED', `pipe ${id} is not open in this room`);
    return p;
  }

  function addPeer(roomId: number, r: Room): { id: number; pc: RTCPeerConnection } {
    const id = nextId++;
    const pc = new RTCPeerConnection({ udpMux: mux });
    r.peers.set(id, pc);
    pc.on('connectionstatechange', () => post({ event: 'peerstate', room: roomId, peer: id, state: pc.connectionState }));
    return { id, pc };
  }

  // A producer of the room gets an id, and its 'close', 'pause' and 'resume' become room events; the
  // 'producer' event is posted before the reply, so the main thread hears of it first (as the Router's
  // 'producer' fires before produce() resolves).
  function addProducer(roomId: number, r: Room, producer: Producer, from: { peer: number } | { pipe: number }): WorkerReplies['produce'] {
    const id = nextId++;
    r.producers.set(id, producer);
    producer.on('pause', () => post({ event: 'producerpause', room: roomId, producer: id }));
    producer.on('resume', () => post({ event: 'producerresume', room: roomId, producer: id }));
    producer.once('close', () => {
      r.producers.delete(id);
      post({ event: 'producerclose', room: roomId, producer: id });
    });
    post({ event: 'producer', room: roomId, producer: id, ...from, kind: producer.kind, ssrc: producer.ssrc });
    return { producer: id, kind: producer.kind, ssrc: producer.ssrc };
  }

  function closeRoom(id: number): void {
    const r = rooms.get(id);
    if (!r) return;
    rooms.delete(id);
    // Closing a connection takes its producers and consumers with it (docs/sfu.md "Invariants").
    for (const pc of r.peers.values()) pc.close();
    for (const p of r.pipes.values()) p.close();
  }

  function workerStats(): RouterWorkerStats {
    const m = mux.stats;
    const s = router.stats;
    let peers = 0;
    for (const r of rooms.values()) peers += r.peers.size;
    return {
      worker: data.index,
      local: { address: mux.local.address, port: mux.local.port },
      rooms: rooms.size,
      peers,
      datagramsReceived: m.datagramsReceived,
      routedByAddress: m.routedByAddress,
      routedByUfrag: m.routedByUfrag,
      unknownSender: m.drops['unknown-sender'],
      unknownUfrag: m.drops['unknown-ufrag'],
      packetsReceived: s.packetsReceived,
      packetsForwarded: s.packetsForwarded,
      ...(handoff ? { handoff: handoff.stats } : {}),
    };
  }

  async function handle(req: WorkerRequest): Promise<WorkerReplies[WorkerRequest['op']]> {
    switch (req.op) {
      case 'createRoom':
        rooms.set(req.room, { peers: new Map(), producers: new Map(), consumers: new Map(), pipes: new Map() });
        return null;
      case 'closeRoom':
        closeRoom(req.room);
        return null;
      case 'answer': {
        const r = room(req.room);
        const { id, pc } = addPeer(req.room, r);
        try {
          await pc.setRemoteDescription({ type: 'offer', sdp: req.offer });
          await pc.setLocalDescription(await pc.createAnswer());
        } catch (err) {
          r.peers.delete(id);
          pc.close();
          throw err;
        }
        return { peer: id, answer: pc.localDescription!.sdp };
      }
      case 'offer': {
        const r = room(req.room);
        const { id, pc } = addPeer(req.room, r);
        for (const kind of req.kinds) pc.addTransceiver(new LocalStreamTrack({ kind }), { direction: 'sendonly' });
        await pc.setLocalDescription(await pc.createOffer());
        return { peer: id, offer: pc.localDescription!.sdp };
      }
      case 'accept': {
        const pc = peer(room(req.room), req.peer);
        await pc.setRemoteDescription({ type: 'answer', sdp: req.answer });
        return null;
      }
      case 'produce': {
        const r = room(req.room);
        const pc = peer(r, req.peer);
        const producer = await router.produce(pc, transceiver(pc, req.mid), req.options);
        return addProducer(req.room, r, producer, { peer: req.peer });
      }
      case 'consume': {
        const r = room(req.room);
        const producer = r.producers.get(req.producer);
        if (!producer || producer.closed) throw new InvalidStateError('ERR_SFU_PRODUCER_CLOSED', `producer ${req.producer} is not in this room`);
        const pc = peer(r, req.peer);
        const consumer = await router.consume(producer, pc, transceiver(pc, req.mid), req.options);
        const id = nextId++;
        r.consumers.set(id, consumer);
        consumer.on('layerschange', (layers) => post({ event: 'layerschange', room: req.room, consumer: id, layers: { ...layers } }));
        consumer.once('close', () => {
          r.consumers.delete(id);
          post({ event: 'consumerclose', room: req.room, consumer: id });
        });
        return { consumer: id, ssrc: consumer.ssrc };
      }
      case 'pause':
      case 'resume': {
        const c = room(req.room).consumers.get(req.consumer);
        if (!c || c.closed) throw new InvalidStateError('ERR_SFU_CONSUMER_CLOSED', `consumer ${req.consumer} is closed`);
        if (req.op === 'pause') c.pause();
        else c.resume();
        return null;
      }
      case 'closeConsumer':
        // Idempotent, as Consumer.close(): an id already closed (or never made here) is a no-op.
        room(req.room).consumers.get(req.consumer)?.close();
        return null;
      case 'pauseProducer':
      case 'resumeProducer': {
        const p = room(req.room).producers.get(req.producer);
        if (!p || p.closed) throw new InvalidStateError('ERR_SFU_PRODUCER_CLOSED', `producer ${req.producer} is closed`);
        if (req.op === 'pauseProducer') p.pause();
        else p.resume();
        return null;
      }
      case 'closeProducer':
        room(req.room).producers.get(req.producer)?.close();
        return null;
      case 'setPreferredLayers': {
        const c = room(req.room).consumers.get(req.consumer);
        if (!c || c.closed) throw new InvalidStateError('ERR_SFU_CONSUMER_CLOSED', `consumer ${req.consumer} is closed`);
        c.setPreferredLayers(req.layers);
        return { preferredLayers: c.preferredLayers };
      }
      case 'requestKeyFrame': {
        const p = room(req.room).producers.get(req.producer);
        if (!p || p.closed) throw new InvalidStateError('ERR_SFU_PRODUCER_CLOSED', `producer ${req.producer} is closed`);
        p.requestKeyFrame();
        return null;
      }
      case 'closePeer': {
        const r = room(req.room);
        r.peers.get(req.peer)?.close();
        r.peers.delete(req.peer);
        return null;
      }
      case 'roomStats': {
        const r = room(req.room);
        let pipes = 0;
        for (const p of r.pipes.values()) if (!p.closed) pipes++;
        const stats: WorkerRoomStats = { worker: data.index, router: router.stats, producers: {}, consumers: {}, peers: {}, pipes };
        for (const [id, p] of r.producers) if (!p.closed) stats.producers[id] = p.getStats();
        for (const [id, c] of r.consumers) if (!c.closed) stats.consumers[id] = c.getStats();
        for (const [id, pc] of r.peers) stats.peers[id] = { connectionState: pc.connectionState };
        return stats;
      }
      case 'createPipe': {
        const r = room(req.room);
        const p = router.createPipeTransport(req.options);
        const id = nextId++;
        r.pipes.set(id, p);
        return { pipe: id, localParameters: p.getLocalParameters() };
      }
      case 'connectPipe':
        pipe(room(req.room), req.pipe).connect(req.remote);
        return null;
      case 'pipeProducer': {
        const r = room(req.room);
        const p = pipe(r, req.pipe);
        const producer = r.producers.get(req.producer);
        if (!producer || producer.closed) throw new InvalidStateError('ERR_SFU_PRODUCER_CLOSED', `producer ${req.producer} is not in this room`);
        return { stream: p.consumerStream(p.consume(producer)) };
      }
      case 'produceFromPipe': {
        const r = room(req.room);
        const producer = pipe(r, req.pipe).produce(req.stream);
        return addProducer(req.room, r, producer, { pipe: req.pipe });
      }
      case 'closePipe': {
        const r = room(req.room);
        r.pipes.get(req.pipe)?.close();
        r.pipes.delete(req.pipe);
        return null;
      }
      case 'workerStats':
        return workerStats();
      case 'shutdown':
        for (const id of [...rooms.keys()]) closeRoom(id);
        router.close();
        mux.close();
        return null;
    }
  }

  function errorData(err: unknown): { name: string; code: string; message: string } {
    if (err instanceof PwtError) return { name: err.name, code: err.code, message: err.message };
    return { name: 'OperationError', code: 'ERR_WORKER_INTERNAL', message: err instanceof Error ? err.message : String(err) };
  }

  port.on('message', (msg: { id: number; request: WorkerRequest }) => {
    handle(msg.request).then(
      (value) => post({ id: msg.id, ok: true, value }),
      (err: unknown) => post({ id: msg.id, ok: false, error: errorData(err) }),
    );
  });
  post({ event: 'ready', local: { address: mux.local.address, port: mux.local.port } });

}

main().catch((err: unknown) => {
  // The port could not be bound: the pool sees the worker exit before 'ready' and reports it.
  process.exitCode = 1;
  throw err;
});
