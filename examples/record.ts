// A WHIP endpoint (RFC 9725) that records what each publisher sends: video to IVF (VP8/VP9/AV1),
// Opus to Ogg Opus (RFC 7845), H.264 to Annex B, through lib/media's RtpRecorder.
//   node --import tsx examples/record.ts --out <dir> [--seconds N] [--port P]
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { MEDIA_MIME_TYPES, RtpRecorder } from 'pure-webrtc-transport/media';
// The package's main entry point also installs the default policy modules (RTCP reports, NACK,
// keyframe requests, transport-cc feedback).
import { createWhipHandler, RTCPeerConnection, sdp, type MediaStreamTrack, type RTCConfiguration, type RTCRtpReceiver } from 'pure-webrtc-transport';

/** Options of {@link startRecorder}. */
export interface RecorderOptions {
  /** Directory the recordings go to (created when missing). */
  outDir: string;
  /** HTTP port (default 8080; 0 picks a free one). */
  port?: number;
  /** Address the HTTP server listens on (default 127.0.0.1). */
  host?: string;
  /** Local addresses to gather host candidates on (default: every interface). */
  hostAddresses?: string[];
  /** Act as an ICE-lite agent (the peer's checks alone select the path). */
  iceLite?: boolean;
  /** Policy modules (docs/policy.md); default the package's default set. */
  rtpPolicies?: RTCConfiguration['rtpPolicies'];
}

/** One recorded file. */
export interface Recording {
  /** Path of the file. */
  path: string;
  /** Codec recorded, e.g. `video/VP8`. */
  mimeType: string;
  /** Frames (Opus packets) written. */
  frames: number;
  /** RTP packets received on the track, including any not recorded. */
  packets: number;
}

/** A running recorder. */
export interface RecorderServer {
  /** The WHIP endpoint URL. */
  readonly whipUrl: string;
  /** Files being written, one per recorded track. */
  readonly recordings: readonly Recording[];
  /** Ends every session, finishes the files and stops the HTTP server; returns the recordings. */
  close(): Promise<Recording[]>;
}

const EXTENSIONS: Record<string, string> = { 'video/vp8': 'ivf', 'video/vp9': 'ivf', 'video/av1': 'ivf', 'video/h264': 'h264', 'audio/opus': 'ogg' };

/** Payload type to recordable MIME type, from our answer (the payload types the peer sends with). */
function recordableTypes(answer: string): Map<number, string> {
  const types = new Map<number, string>();
  for (const m of sdp.parseSdp(answer).media) {
    for (const c of m.codecs) {
      const mime = MEDIA_MIME_TYPES.find((t) => t.toLowerCase() === `${m.kind}/${c.name}`.toLowerCase());
      if (mime !== undefined) types.set(c.payloadType, mime);
    }
  }
  return types;
}

/** Writes one track into a file until the track ends; resolves when the file is complete. */
async function recordTrack(track: MediaStreamTrack, receiver: RTCRtpReceiver, types: Map<number, string>, path: (mime: string) => string, into: Recording[]): Promise<void> {
  let recorder: RtpRecorder | undefined;
  let fd = -1;
  let recording: Recording | undefined;
  let packets = 0;
  try {
    for await (const packet of track) {
      packets++;
      if (recording) recording.packets = packets;
      const mime = types.get(packet.payloadType ?? -1);
      if (mime === undefined) continue;
      if (recorder === undefined) {
        recorder = new RtpRecorder({ mimeType: mime });
        recording = { path: path(mime), mimeType: mime, frames: 0, packets };
        fd = openSync(recording.path, 'w');
        into.push(recording);
      }
      // One track, one codec: packets of another payload type (a mid-call codec switch) are not recorded.
      if (mime !== recording!.mimeType) continue;
      const bytes = recorder.push(packet);
      if (bytes.length > 0) writeSync(fd, bytes);
      // Video after a loss (or before the first keyframe): ask the sender for a keyframe. The
      // keyframe module throttles, so asking on every packet sends one PLI per interval.
      if (recorder.keyframeNeeded) requestKeyframe(receiver);
      recording!.frames = recorder.framesWritten;
    }
  } finally {
    if (recorder !== undefined && recording !== undefined) {
      const end = recorder.end();
      if (end.tail.length > 0) writeSync(fd, end.tail);
      // IVF: the header at offset 0 gets the final frame count.
      if (end.header !== undefined && recorder.framesWritten > 0) writeSync(fd, end.header, 0, end.header.length, 0);
      recording.frames = recorder.framesWritten;
      closeSync(fd);
    }
  }
}

/** Asks for a keyframe when a keyframe module is installed (without one there is no way to ask). */
function requestKeyframe(receiver: RTCRtpReceiver): void {
  try {
    receiver.requestKeyframe();
  } catch {
    // No keyframe module installed: the recording waits for the sender's next keyframe.
  }
}

/** Starts the WHIP endpoint at `http://host:port/whip`; each session's tracks are recorded into `outDir`. */
export async function startRecorder(options: RecorderOptions): Promise<RecorderServer> {
  mkdirSync(options.outDir, { recursive: true });
  const sessions = new Map<string, { pc: RTCPeerConnection; done: Promise<void>[] }>();
  const recordings: Recording[] = [];

  const endSession = async (id: string): Promise<boolean> => {
    const s = sessions.get(id);
    if (!s) return false;
    sessions.delete(id);
    // close() ends the remote tracks, which lets recordTrack finish its file.
    s.pc.close();
    await Promise.all(s.done);
    return true;
  };

  const whip = createWhipHandler({
    offer: async (id, sdp) => {
      const pc = new RTCPeerConnection({
        ...(options.hostAddresses ? { hostAddresses: options.hostAddresses } : {}),
        ...(options.iceLite === true ? { iceLite: true } : {}),
        ...(options.rtpPolicies ? { rtpPolicies: options.rtpPolicies } : {}),
      });
      const session = { pc, done: [] as Promise<void>[] };
      sessions.set(id, session);
      const types = new Map<number, string>();
      let n = 0;
      pc.on('track', (e) => {
        const k = n++;
        const path = (mime: string): string => join(options.outDir, `${id}-${k}-${e.track.kind}.${EXTENSIONS[mime.toLowerCase()]}`);
        session.done.push(recordTrack(e.track, e.receiver, types, path, recordings).catch(() => {}));
      });
      pc.on('connectionstatechange', () => {
        if (pc.connectionState === 'failed') void endSession(id);
      });
      try {
        await pc.setRemoteDescription({ type: 'offer', sdp });
        await pc.setLocalDescription(await pc.createAnswer());
      } catch (error) {
        sessions.delete(id);
        pc.close();
        throw error;
      }
      // The map is filled in place: tracks created above hold a reference to it.
      for (const [pt, mime] of recordableTypes(pc.localDescription!.sdp)) types.set(pt, mime);
      return pc.localDescription!.sdp;
    },
    end: (id) => endSession(id),
  });

  const http = createServer((req, res) => {
    void whip(req, res).then((handled) => {
      if (!handled) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('only /whip here\n');
      }
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 8080, host, resolve);
  });
  const { port } = http.address() as AddressInfo;
  return {
    whipUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}/whip`,
    recordings,
    async close(): Promise<Recording[]> {
      await Promise.all([...sessions.keys()].map((id) => endSession(id)));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      return recordings;
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      seconds: { type: 'string', default: '30' },
      port: { type: 'string', default: '8080' },
    },
  });
  if (values.out === undefined) throw new Error('usage: record.ts --out <dir> [--seconds N] [--port P]');
  const recorder = await startRecorder({ outDir: values.out, port: Number(values.port) });
  console.log(`recording WHIP publishers at ${recorder.whipUrl} for ${values.seconds} s into ${values.out}`);
  await sleep(Number(values.seconds) * 1000);
  const recordings = await recorder.close();
  const parts = recordings.map((r) => `${r.path} (${r.mimeType}, ${r.frames} frames from ${r.packets} packets)`);
  console.log(`recorded ${recordings.length} file(s)${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`record failed: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
