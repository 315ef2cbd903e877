// Public surface of the SRTP engine (RFC 3711, RFC 7714, RFC 5764 keying).
export { SrtpSession, SrtpPacketKind, type SrtpKeys, type SrtpSessionOptions, type SrtpSessionStats } from './srtp-session.js';
export { SrtpBatch, type SrtpBatchOptions } from './srtp-batch.js';
export { SrtpProtectionProfile, srtpProfileLengths, SRTP_MAX_OVERHEAD, type SrtpProfileLengths } from './srtp-profile.js';
export { SrtpStatus, SrtpCounterIndex, SRTP_COUNTER_SLOTS, SRTP_STATUS_NAMES } from './srtp-status.js';
