// The scale suite's server process: a RouterWorkerPool (lib/sfu/worker) with the number of workers and
// port mode given in argv, driven over IPC by bench/suites/scale.ts (room calls, and marks of the
// process's CPU time and the workers' forwarded packets). Its CPU is the server's alone: the load
// generator and sinks run in another process (bench/native/scale_blast.c).
import { RouterWorkerPool, type RouterWorkerStats, type WorkerRoom } from '../../lib/sfu/index.js';

export type ScaleRequest =
  | { id: number; op: 'room'; worker: number }
  | { id: number; op: 'answer'; room: number; offer: string }
  | { id: number; op: 'offer'; room: number }
  | { id: number; op: 'accept'; room: number; peer: number; answer: string }
  | { id: number; op: 'produce'; room: number; peer: number; mid: string }
  | { id: number; op: 'consume'; room: number; producer: number; peer: number; mid: string }
  | { id: number; op: 'mark' }
  | { id: number; op: 'close' };

/** A mark: server CPU (all threads) and the workers' counters at one instant. */
export interface ScaleMark {
  cpuUs: number;
  forwarded: number;
  received: number;
  handoffSent: number;
  /** Datagrams the workers read from connected flow sockets (docs/scaling.md "Connected flow sockets"). */
  flowReceived: number;
  /** Datagrams a full or closed hand-off channel dropped. */
  handoffDrops: number;
}

const { workers, sharedPort, flowSockets } = JSON.parse(process.argv[2]!) as { workers: number; sharedPort: boolean; flowSockets?: number };
const pool = await RouterWorkerPool.create({ workers, address: '127.0.0.1', sharedPort, ...(flowSockets !== undefined ? { flowSockets } : {}) });
const rooms = new Map<number, WorkerRoom>();

async function handle(m: ScaleRequest): Promise<unknown> {
  switch (m.op) {
    case 'room': {
      const room = await pool.createRoom({ worker: m.worker });
      rooms.set(room.id, room);
      return { room: room.id, port: room.local.port };
    }
    case 'answer':
      return rooms.get(m.room)!.answer(m.offer);
    case 'offer':
      return rooms.get(m.room)!.offer(['audio']);
    case 'accept':
      return rooms.get(m.room)!.accept(m.peer, m.answer);
    case 'produce':
      return rooms.get(m.room)!.produce(m.peer, m.mid, { cachePackets: 0 });
    case 'consume':
      return rooms.get(m.room)!.consume(m.producer, m.peer, m.mid);
    case 'mark': {
      const cpu = process.cpuUsage();
      const stats = (await pool.stats()).filter((s): s is RouterWorkerStats => !('failed' in s));
      const mark: ScaleMark = {
        cpuUs: cpu.user + cpu.system,
        forwarded: stats.reduce((a, s) => a + s.packetsForwarded, 0),
        received: stats.reduce((a, s) => a + s.packetsReceived, 0),
        handoffSent: stats.reduce((a, s) => a + (s.handoff?.sent ?? 0), 0),
        flowReceived: stats.reduce((a, s) => a + (s.handoff?.flowReceived ?? 0), 0),
        handoffDrops: stats.reduce((a, s) => a + (s.handoff?.drops ?? 0), 0),
      };
      return mark;
    }
    case 'close':
      await pool.close();
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (m: ScaleRequest) => {
  handle(m).then(
    (value) => process.send!({ id: m.id, value }),
    (err: unknown) => process.send!({ id: m.id, error: err instanceof Error ? `${err.name} ${(err as { code?: string }).code ?? ''}: ${err.message}` : String(err) }),
  );
});
process.send!({ ready: true });
