// STUN/TURN registry values: message methods, classes and attribute types
// (RFC 8489 §5, §18.3; RFC 8445 §16.1; RFC 8656 §17-18; RFC 6062 §6).

/** The fixed magic cookie of every RFC 5389/8489 STUN message (RFC 8489 §5). */
export const STUN_MAGIC_COOKIE = 0x2112a442;
/** Length of the STUN header in bytes (RFC 8489 §5). */
export const STUN_HEADER_LENGTH = 20;

/** STUN message classes (RFC 8489 §5): the C1/C0 bits of the message type. */
export const StunClass = {
  Request: 0,
  Indication: 1,
  SuccessResponse: 2,
  ErrorResponse: 3,
} as const;
/** One of the four STUN message classes. */
export type StunClass = (typeof StunClass)[keyof typeof StunClass];

/** STUN/TURN methods (RFC 8489 §18.2, RFC 8656 §17, RFC 6062 §6.1). */
export const StunMethod = {
  Binding: 0x001,
  Allocate: 0x003,
  Refresh: 0x004,
  Send: 0x006,
  Data: 0x007,
  CreatePermission: 0x008,
  ChannelBind: 0x009,
  Connect: 0x00a,
  ConnectionBind: 0x00b,
  ConnectionAttempt: 0x00c,
} as const;

/** STUN attribute types used by ICE and TURN (RFC 8489 §18.3, RFC 8445 §16.1, RFC 8656 §18). */
export const StunAttr = {
  MappedAddress: 0x0001,
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  UnknownAttributes: 0x000a,
  ChannelNumber: 0x000c,
  Lifetime: 0x000d,
  XorPeerAddress: 0x0012,
  Data: 0x0013,
  Realm: 0x0014,
  Nonce: 0x0015,
  XorRelayedAddress: 0x0016,
  RequestedAddressFamily: 0x0017,
  EvenPort: 0x0018,
  RequestedTransport: 0x0019,
  DontFragment: 0x001a,
  MessageIntegritySha256: 0x001c,
  PasswordAlgorithm: 0x001d,
  Userhash: 0x001e,
  XorMappedAddress: 0x0020,
  ReservationToken: 0x0022,
  Priority: 0x0024,
  UseCandidate: 0x0025,
  ConnectionId: 0x002a,
  PasswordAlgorithms: 0x8002,
  AlternateDomain: 0x8003,
  Software: 0x8022,
  AlternateServer: 0x8023,
  Fingerprint: 0x8028,
  IceControlled: 0x8029,
  IceControlling: 0x802a,
} as const;

/** Attribute types below this value are comprehension-required (RFC 8489 §14). */
export const COMPREHENSION_OPTIONAL_MIN = 0x8000;

/** Comprehension-required attribute types this codec understands (others trigger a 420). */
export const KNOWN_REQUIRED_ATTRIBUTES: ReadonlySet<number> = new Set(
  Object.values(StunAttr).filter((t) => t < COMPREHENSION_OPTIONAL_MIN),
);

/** Error codes used by ICE and TURN (RFC 8489 §14.8, RFC 8445 §7.3.1.1, RFC 8656 §18). */
export const StunErrorCode = {
  TryAlternate: 300,
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  UnknownAttribute: 420,
  AllocationMismatch: 437,
  StaleNonce: 438,
  AddressFamilyNotSupported: 440,
  WrongCredentials: 441,
  UnsupportedTransportProtocol: 442,
  PeerAddressFamilyMismatch: 443,
  AllocationQuotaReached: 486,
  RoleConflict: 487,
  ServerError: 500,
  InsufficientCapacity: 508,
} as const;
