// Public entry point of pure-webrtc-transport.
export * from './common/errors.js';
export { TypedEventEmitter } from './common/typed-emitter.js';
export type { EventMap } from './common/typed-emitter.js';
export type { Clock } from './common/clock.js';
export type { Rng } from './common/rng.js';
