// Public surface of lib/room: the multi-party room server behind `pure-webrtc-transport sfu` (docs/sfu.md "Room server").
export { startRoomServer } from './room-server.js';
export type { RoomServer, RoomServerOptions, RoomServerStats } from './room-server.js';
export { Room, LAYER_CHECK_INTERVAL_MS } from './room.js';
export type { RoomEvents, RoomOptions, RoomSnapshot } from './room.js';
export { RoomMember } from './room-member.js';
export type { RoomMemberSnapshot } from './room-member.js';
export { RoomSubscription } from './room-subscription.js';
export type { RoomConsumerSnapshot, RoomLegOptions, RoomSubscriptionSnapshot } from './room-subscription.js';
export { renderRoomPage } from './room-page.js';
export type { RoomPageConfig } from './room-page.js';
export { roomCodecs } from './room-codecs.js';
export { chooseLayer, LiveLayers } from './layer-keeper.js';
