// Public surface of the SCTP / data-channel layer (RFC 9260, RFC 8831, RFC 8832) for lib/peer
// and the package entry point.
export { SctpAssociation } from './association.js';
export type { SctpAssociationOptions, SctpSendOptions } from './association.js';
export type { SctpAssociationState, SctpEvent, SctpStats, SctpWindowState } from './events.js';
export { DataChannelManager } from './data-channel-manager.js';
export type { DataChannelManagerEvents, DataChannelManagerStats, DtlsRole, RTCDataChannelEvent } from './data-channel-manager.js';
export { RTCDataChannel } from './data-channel.js';
export type {
  BinaryType,
  DataChannelErrorEvent,
  DataChannelMessageEvent,
  DataChannelSimpleEvent,
  RTCDataChannelEvents,
  RTCDataChannelInit,
  RTCDataChannelState,
} from './data-channel.js';
export { Ppid } from './dcep.js';
export type { RTCPriorityType } from './dcep.js';
export { crc32c } from './crc32c.js';
