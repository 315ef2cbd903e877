// The `whip-client` command's logic: connects to a WHIP endpoint (RFC 9725), sends audio/video RTP
// and the data-channel test messages, checks what comes back and sums it up in one JSON object.
import { performance } from 'node:perf_hooks';
import { LocalStreamTrack, RTCPeerConnection, type RTCConfiguration, type RTCDataChannel } from '../peer/index.js';
import { messageBytes, messagePlan } from '../echo/message-plan.js';
import { whipConnect, type WhipSession } from '../signaling/whip-client.js';
import { servedCodecs } from '../echo/served-codecs.js';
import type { CodecCapability } from '../sdp/capabilities.js';
import { createMediaSource, type MediaSource, type MediaSourceCodec } from './media-source.js';
// Installs the default policy modules (RTCP reports, NACK, keyframe requests, transport-cc feedback).
import '../policy/default-policies.js';

/** Options of {@link runWhipClient}. */
export interface WhipClientOptions {
  url: string;
  audio?: boolean;
  video?: boolean;
  datachannel?: boolean;
  /** How long to send media after connecting (default 5). */
  seconds?: number;
  /** Ogg Opus file to send as audio (else the shipped Opus tone). */
  audioFile?: string;
  /** IVF (VP8, VP9, AV1) or Annex B H.264 file to send as video (else the shipped VP8 clip). */
  videoFile?: string;
  /** Bearer token for the endpoint. */
  token?: string;
  /** Peer connection options (host addresses, SRTP profiles...). */
  peer?: Pick<RTCConfiguration, 'hostAddresses' | 'srtpProfiles' | 'portRange'>;
  /** Give up connecting after this many ms (default 10000). */
  connectTimeoutMs?: number;
  /** Wait this long for the test messages to come back (default: 10000 or `seconds`, the longer). */
  messagesTimeoutMs?: number;
  /** Stops sending before `seconds` are up once aborted; the summary counts what was sent until then. */
  signal?: AbortSignal;
}

/** The one-line JSON summary the command prints. */
export interface WhipClientSummary {
  ok: boolean;
  connected: boolean;
  msToConnected: number | null;
  messages: { sent: number; echoedIntact: number; received: number };
  rtp: Record<'audio' | 'video', { sent: number; received: number }>;
  /** What each kind sent: the codec and the file (`default` for the shipped clip). */
  media: Partial<Record<'audio' | 'video', { codec: MediaSourceCodec; origin: string }>>;
  /** The SCTP association's `sctp-transport` stats at the end (retransmissions, windows), with a data channel. */
  sctp?: Record<string, unknown>;
  errors: string[];
}

/**
 * Codecs to negotiate: Opus, and only the video codec of the file being sent (H.264 with
 * packetization-mode 1, which the H.264 packetizer writes), so the answer cannot pick another.
 */
function codecsFor(video: MediaSourceCodec | undefined): CodecCapability[] {
  const keepVideo = (c: CodecCapability): boolean => c.name === video && (c.name !== 'H264' || c.parameters['packetization-mode'] === '1');
  return [...servedCodecs('audio', () => true), ...servedCodecs('video', video === undefined ? () => true : keepVideo)];
}

/** Names what an echo that is not the expected message is: which sent message it matches, or its type and size. */
function describeEcho(sent: readonly { text: boolean; bytes: Buffer }[], got: unknown): string {
  const isText = typeof got === 'string';
  const bytes = isText ? Buffer.from(got, 'latin1') : Buffer.isBuffer(got) ? got : undefined;
  if (!bytes) return `a ${typeof got}`;
  const kind = isText ? 'string' : 'binary';
  const j = sent.findIndex((m) => m.bytes.equals(bytes));
  if (j < 0) return `a ${bytes.length} B ${kind} matching no sent message`;
  return `as message ${j}'s bytes (${bytes.length} B ${kind}${sent[j]!.text === isText ? '' : `, sent as ${sent[j]!.text ? 'string' : 'binary'}`})`;
}

function sameMessage(sentText: boolean, sent: Buffer, got: unknown): boolean {
  if (sentText) return typeof got === 'string' && got === sent.toString('latin1');
  return Buffer.isBuffer(got) && got.equals(sent);
}

async function runMessages(channel: RTCDataChannel, deadlineMs: number, errors: string[]): Promise<WhipClientSummary['messages']> {
  const plan = messagePlan();
  const result = { sent: 0, echoedIntact: 0, received: 0 };
  channel.binaryType = 'nodebuffer';
  if (channel.readyState !== 'open') {
    const opened = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), deadlineMs);
      channel.once('open', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    if (!opened) {
      errors.push('data channel did not open');
      return result;
    }
  }
  const sent = plan.map((m, i) => ({ text: !m.binary, bytes: messageBytes(i, m.size) }));
  const done = new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      errors.push(`data channel: ${result.received} of ${sent.length} messages back after ${deadlineMs} ms`);
      resolve();
    }, deadlineMs);
    channel.on('message', (e) => {
      const i = result.received++;
      const want = sent[i];
      if (want && sameMessage(want.text, want.bytes, e.data)) result.echoedIntact++;
      else errors.push(`data channel: message ${i} came back different: ${describeEcho(sent, e.data)}`);
      if (result.received >= sent.length) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  for (const m of sent) {
    channel.send(m.text ? m.bytes.toString('latin1') : m.bytes);
    result.sent++;
  }
  await done;
  return result;
}

/** Runs the client; never throws (failures are in `errors`, `ok` is false). */
export async function runWhipClient(options: WhipClientOptions): Promise<WhipClientSummary> {
  const errors: string[] = [];
  const summary: WhipClientSummary = {
    ok: false,
    connected: false,
    msToConnected: null,
    messages: { sent: 0, echoedIntact: 0, received: 0 },
    rtp: { audio: { sent: 0, received: 0 }, video: { sent: 0, received: 0 } },
    media: {},
    errors,
  };
  const kinds: ('audio' | 'video')[] = [];
  if (options.audio) kinds.push('audio');
  if (options.video) kinds.push('video');
  const seconds = options.seconds ?? 5;
  let sources: MediaSource[];
  try {
    sources = kinds.map((kind) => createMediaSource(kind, kind === 'audio' ? options.audioFile : options.videoFile));
  } catch (error) {
    errors.push((error as Error).message);
    return summary;
  }
  for (const s of sources) summary.media[s.kind] = { codec: s.codec, origin: s.origin };
  const pc = new RTCPeerConnection({ ...options.peer, codecs: codecsFor(sources.find((s) => s.kind === 'video')?.codec) });
  let session: WhipSession | undefined;
  let pacer: NodeJS.Timeout | undefined;
  try {
    const senders: { source: MediaSource; track: LocalStreamTrack }[] = [];
    for (const source of sources) {
      const track = new LocalStreamTrack({ kind: source.kind });
      pc.addTransceiver(track, { direction: 'sendrecv', streams: ['whip-client'] });
      senders.push({ source, track });
    }
    pc.on('track', (e) => {
      const counter = summary.rtp[e.track.kind];
      void (async () => {
        for await (const _packet of e.track) counter.received++;
      })();
    });
    const channel = options.datachannel ? pc.createDataChannel('whip-client') : undefined;
    const started = performance.now();
    session = await whipConnect(options.url, pc, { token: options.token, timeoutMs: options.connectTimeoutMs ?? 10_000 });
    await pc.connected(options.connectTimeoutMs ?? 10_000);
    summary.connected = true;
    summary.msToConnected = Math.round(performance.now() - started);

    const mediaStart = performance.now();
    if (senders.length > 0) {
      pacer = setInterval(() => {
        const elapsed = performance.now() - mediaStart;
        for (const { source, track } of senders) {
          for (const packet of source.due(elapsed)) {
            track.send(packet);
            summary.rtp[source.kind].sent++;
          }
        }
      }, 10);
    }
    const messages = channel ? runMessages(channel, options.messagesTimeoutMs ?? Math.max(10_000, seconds * 1000), errors) : undefined;
    await sendingTime(seconds * 1000, options.signal);
    if (pacer) clearInterval(pacer);
    pacer = undefined;
    // Let the last echoed packets arrive.
    await new Promise((r) => setTimeout(r, 300));
    if (messages) summary.messages = await messages;
    for (const kind of kinds) {
      if (summary.rtp[kind].received === 0) errors.push(`no ${kind} RTP came back`);
    }
    if (channel) {
      const sctp = [...(await pc.getStats()).values()].find((s) => s.type === 'sctp-transport');
      if (sctp) summary.sctp = { ...sctp };
    }
  } catch (error) {
    errors.push((error as Error).message);
  } finally {
    if (pacer) clearInterval(pacer);
    if (session) {
      try {
        const status = await session.end();
        if (status < 200 || status > 299) errors.push(`DELETE ${session.resource} answered ${status}`);
      } catch (error) {
        errors.push(`DELETE failed: ${(error as Error).message}`);
      }
    }
    pc.close();
  }
  summary.ok = summary.connected && errors.length === 0;
  return summary;
}

/** Resolves after `ms`, or at once when `signal` is (or gets) aborted. */
function sendingTime(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (signal?.aborted) done();
    else signal?.addEventListener('abort', done, { once: true });
  });
}
