// The `whep-client` command's logic: plays a WHEP endpoint (draft-ietf-wish-whep §4: a recvonly
// offer POSTed like WHIP's, RFC 9725), counts the RTP and video frames that arrive for a while,
// DELETEs the session and sums it up in one JSON object.
import { performance } from 'node:perf_hooks';
import { RTCPeerConnection, type RTCConfiguration } from '../peer/index.js';
import { parseSdp } from '../sdp/parse.js';
import { whipConnect, type WhipSession } from '../signaling/whip-client.js';
// Installs the default policy modules (RTCP reports, NACK, keyframe requests, transport-cc feedback).
import '../policy/default-policies.js';

/** Options of {@link runWhepClient}. */
export interface WhepClientOptions {
  url: string;
  /** How long to receive after connecting (default 5). */
  seconds?: number;
  /** Bearer token for the endpoint. */
  token?: string;
  /** Peer connection options (host addresses, SRTP profiles...). */
  peer?: Pick<RTCConfiguration, 'hostAddresses' | 'srtpProfiles' | 'portRange'>;
  /** Give up connecting after this many ms (default 10000). */
  connectTimeoutMs?: number;
}

/** The one-line JSON summary the command prints. */
export interface WhepClientSummary {
  ok: boolean;
  connected: boolean;
  msToConnected: number | null;
  /** RTP received per kind; `frames` counts video frames ended by a marker bit (RFC 3550 §5.1). */
  rtp: { audio: { packets: number; bytes: number }; video: { packets: number; bytes: number; frames: number } };
  /** Negotiated codec per kind (rtpmap name), when the endpoint sends that kind. */
  codecs: Partial<Record<'audio' | 'video', string>>;
  errors: string[];
  /**
   * Set when the endpoint had already ended the session (a WHEP subscriber ends with its
   * publisher) and answered the DELETE with 404: not an error, what was played still counts.
   */
  endedByEndpoint?: true;
}

/** RTP silence before the DELETE that counts as the endpoint having ended the session. */
const MEDIA_STOPPED_MS = 1_000;

/** Runs the player; never throws (failures are in `errors`, `ok` is false). */
export async function runWhepClient(options: WhepClientOptions): Promise<WhepClientSummary> {
  const errors: string[] = [];
  const summary: WhepClientSummary = {
    ok: false,
    connected: false,
    msToConnected: null,
    rtp: { audio: { packets: 0, bytes: 0 }, video: { packets: 0, bytes: 0, frames: 0 } },
    codecs: {},
    errors,
  };
  const seconds = options.seconds ?? 5;
  const pc = new RTCPeerConnection({ ...options.peer });
  let session: WhipSession | undefined;
  // Signs that the endpoint ended the session on its side (a track's stream ended, the connection
  // left 'connected', or no RTP for MEDIA_STOPPED_MS before our DELETE: the endpoint closing its
  // connection sends no BYE, and consent keeps ours 'connected' for a while), seen before our own
  // DELETE: a DELETE answered 404 counts as "ended by the endpoint" only with one of them, else a
  // 404 while media still flows (e.g. a badly resolved Location) is an error.
  let endSeen: string | undefined;
  let lastPacketAt = 0;
  pc.on('connectionstatechange', () => {
    const state = pc.connectionState;
    if (summary.connected && endSeen === undefined && (state === 'disconnected' || state === 'failed' || state === 'closed')) endSeen = `connection ${state}`;
  });
  try {
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.on('track', (e) => {
      const kind = e.track.kind;
      void (async () => {
        for await (const packet of e.track) {
          const c = summary.rtp[kind];
          c.packets++;
          c.bytes += packet.payload.length;
          lastPacketAt = performance.now();
          if (kind === 'video' && packet.marker) summary.rtp.video.frames++;
        }
        if (endSeen === undefined && pc.connectionState !== 'closed') endSeen = `${kind} track ended`;
      })();
    });
    const started = performance.now();
    session = await whipConnect(options.url, pc, { token: options.token, timeoutMs: options.connectTimeoutMs ?? 10_000 });
    await pc.connected(options.connectTimeoutMs ?? 10_000);
    summary.connected = true;
    summary.msToConnected = Math.round(performance.now() - started);
    for (const t of pc.getTransceivers()) {
      const codec = negotiatedCodec(pc.remoteDescription?.sdp ?? '', t.mid);
      if (codec !== undefined) summary.codecs[t.receiver.track.kind] = codec;
    }
    await new Promise((r) => setTimeout(r, seconds * 1000));
    for (const kind of Object.keys(summary.codecs) as ('audio' | 'video')[]) {
      if (summary.rtp[kind].packets === 0) errors.push(`no ${kind} RTP arrived`);
    }
    if (Object.keys(summary.codecs).length === 0) errors.push('the endpoint sends no audio or video');
  } catch (error) {
    errors.push((error as Error).message);
  } finally {
    if (session) {
      try {
        if (endSeen === undefined && summary.connected && performance.now() - lastPacketAt >= MEDIA_STOPPED_MS) endSeen = 'no RTP';
        const status = await session.end();
        // 404: the resource is already gone (RFC 9725 §4.3 ends a session by DELETE; the endpoint
        // ends a subscriber whose publisher ended), which is what the DELETE asked for, when the
        // session showed that end (endSeen); a 404 to a session still live is a wrong resource URL.
        if (status === 404 && endSeen !== undefined) summary.endedByEndpoint = true;
        else if (status === 404) errors.push(`DELETE ${session.resource} answered 404 while the session showed no end (${pc.connectionState}, tracks live)`);
        else if (status < 200 || status > 299) errors.push(`DELETE ${session.resource} answered ${status}`);
      } catch (error) {
        errors.push(`DELETE failed: ${(error as Error).message}`);
      }
    }
    pc.close();
  }
  summary.ok = summary.connected && errors.length === 0;
  return summary;
}

/** The first codec of the answer's m-section `mid` when that section sends (not recvonly/inactive). */
function negotiatedCodec(answer: string, mid: string | null): string | undefined {
  const m = parseSdp(answer).media.find((x) => x.mid === mid);
  if (m === undefined || m.port === 0 || m.direction === 'recvonly' || m.direction === 'inactive') return undefined;
  return m.codecs[0]?.name;
}
