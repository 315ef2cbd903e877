// Optional media helpers over the public packet API: RTP payload formats (RFC 7587, 7741, 9628, 6184,
// AV1 RTP), frame reassembly, IVF / Ogg Opus / Annex B files, recording and file playback schedules.
export * from './media-errors.js';
export * from './payloader.js';
export * from './opus-payload.js';
export * from './vp8-payload.js';
export * from './vp9-payload.js';
export * from './vp9-frame-header.js';
export * from './h264-payload.js';
export * from './annex-b.js';
export * from './av1-payload.js';
export * from './av1-obu.js';
export * from './codecs.js';
export * from './ivf.js';
export * from './ogg-page.js';
export * from './ogg-opus.js';
export * from './rtp-packetizer.js';
export * from './sample-builder.js';
export * from './rtp-recorder.js';
export * from './timed-frames.js';
