// The `pipe` suite's relay (bench/suites/pipe.ts): lib/sfu with a pipe transport in the middle. The
// publisher joins router A, whose producer crosses an SRTP pipe (loopback, same process) to router B,
// where every subscriber consumes the pipe's producer (docs/scaling.md). Both routers, both pipe ends
// and all connections are in this one server process, so its CPU covers the extra hop.
import { LocalStreamTrack, RTCPeerConnection, type RTCRtpTransceiver } from '../../lib/peer/index.js';
import { Router, type Producer } from '../../lib/sfu/index.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';

/** What fanout-server.ts needs from a relay. */
export interface PipeServerRelay {
  forwarded(): number;
  retransmitted(): number;
  publish(sdp: string): Promise<string>;
  subscribe(): Promise<{ sdp: string; accept(sdp: string): Promise<void> }>;
}

/** Publisher on router A, subscribers on router B, one pipe (SRTP when `srtp`) between them. */
export async function oursPipeRelay(srtp: boolean): Promise<PipeServerRelay> {
  const muxA = await UdpMux.bind({ address: '127.0.0.1' });
  const muxB = await UdpMux.bind({ address: '127.0.0.1' });
  const routerA = Router.create(muxA);
  const routerB = Router.create(muxB);
  const pipeA = routerA.createPipeTransport({ listenIp: '127.0.0.1', srtp });
  const pipeB = routerB.createPipeTransport({ listenIp: '127.0.0.1', srtp });
  pipeA.connect(pipeB.getLocalParameters());
  pipeB.connect(pipeA.getLocalParameters());
  let producer: Promise<Producer> | undefined;
  const keep: RTCPeerConnection[] = [];
  return {
    // Packets sent to subscribers (router B), as the same-router relay counts them.
    forwarded: () => routerB.stats.packetsForwarded,
    retransmitted: () => routerA.stats.retransmittedPackets + routerB.stats.retransmittedPackets,
    async publish(sdp) {
      const pc = new RTCPeerConnection({ udpMux: muxA });
      keep.push(pc);
      const transceiver = new Promise<RTCRtpTransceiver>((r) => pc.once('track', (e) => r(e.transceiver)));
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      producer = transceiver.then(async (t) => {
        const onA = await routerA.produce(pc, t, { cachePackets: 512 });
        const toB = pipeA.consume(onA);
        return pipeB.produce({ ...pipeA.consumerStream(toB), cachePackets: 512 });
      });
      producer.catch(() => undefined);
      return pc.localDescription!.sdp;
    },
    async subscribe() {
      const pc = new RTCPeerConnection({ udpMux: muxB });
      keep.push(pc);
      const t = pc.addTransceiver(new LocalStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
      await pc.setLocalDescription(await pc.createOffer());
      return {
        sdp: pc.localDescription!.sdp,
        accept: async (answer) => {
          await pc.setRemoteDescription({ type: 'answer', sdp: answer });
          if (!producer) throw new Error('subscribe before publish');
          await routerB.consume(await producer, pc, t);
        },
      };
    },
  };
}
