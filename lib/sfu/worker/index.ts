// lib/sfu/worker: SFU routers on worker threads, driven from the main thread (docs/scaling.md).
export { RouterWorkerPool } from './router-worker-pool.js';
export type { RouterWorkerPoolOptions, RouterWorkerPoolEvents, RouterWorkerFailure } from './router-worker-pool.js';
export { WorkerRoom } from './worker-room.js';
export type { WorkerRoomEvents } from './worker-room.js';
export { WorkerPipeTransport } from './worker-pipe-transport.js';
export type { WorkerProduceOptions, WorkerConsumeOptions, WorkerRoomStats, RouterWorkerStats } from './worker-protocol.js';
export type { ReuseportHandoffStats } from '../../transport/source/udp-reuseport-handoff.js';
