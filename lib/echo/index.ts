// Public surface of lib/echo: the WHIP echo server (with its WHEP endpoint) behind `pure-webrtc-transport echo`.
export { startEchoServer } from './echo-server.js';
export type { EchoServer, EchoServerOptions } from './echo-server.js';
export { EchoSession } from './echo-session.js';
export type { EchoSessionOptions, EchoSessionCounters, EchoSessionSnapshot } from './echo-session.js';
export { WhepSubscriber } from './whep-subscriber.js';
export type { WhepSubscriberCounters } from './whep-subscriber.js';
export { messagePlan, messageBytes } from './message-plan.js';
export type { PlannedMessage } from './message-plan.js';
export { renderEchoPage } from './page.js';
export { announceAddress } from './announce.js';
