// A pipe transport (docs/scaling.md "Pipe transport"): RTP/RTCP between two routers (in one process
// or on two hosts) on a UDP port of its own, in the clear or SRTP-protected (RFC 3711) with keys the
// applications exchange in the parameters. `pipeA.consume(producer)` on one router and
// `pipeB.produce(pipeA.consumerStream(consumer))` on the other carry a stream across; NACKs the far
// side's cache cannot answer (RFC 4585 §6.2.1) and PLIs (§6.3.1) travel back over the pipe.
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { InvalidArgumentError, InvalidStateError } from '../common/errors.js';
import { ABS_SEND_TIME_URI, SDES_MID_URI, SDES_REPAIRED_RTP_STREAM_ID_URI, SDES_RTP_STREAM_ID_URI, TRANSPORT_CC_URI } from '../rtp/extensions/uris.js';
import { SrtpSession } from '../srtp/srtp-session.js';
import { SrtpProtectionProfile, srtpProfileLengths } from '../srtp/srtp-profile.js';
import { UdpSocket } from '../transport/source/udp-socket.js';
import { PlainRtpTransport } from './plain-rtp-transport.js';
import type { Producer } from './producer.js';
import type { Router } from './router.js';

/**
 * Extensions a pipe does not carry: mid/rid name the publisher's m= section (the engine strips them,
 * docs/sfu.md), and abs-send-time / transport-cc are per hop (each far leg writes its own). Without the
 * per-hop ones a retransmission across an SRTP pipe is byte-identical to the original, so protecting it
 * again under the same packet index (RFC 3711 §3.3.1) reveals nothing (docs/scaling.md).
 */
const NOT_PIPED_URIS = new Set([SDES_MID_URI, SDES_RTP_STREAM_ID_URI, SDES_REPAIRED_RTP_STREAM_ID_URI, ABS_SEND_TIME_URI, TRANSPORT_CC_URI]);

/** SRTP profiles a pipe can use (names of SrtpProtectionProfile). */
export type PipeSrtpProfile = 'AEAD_AES_128_GCM' | 'AEAD_AES_256_GCM' | 'AES128_CM_HMAC_SHA1_80';

/** Options of `router.createPipeTransport()`. */
export interface PipeTransportOptions {
  /** Local IP to bind. */
  readonly listenIp: string;
  /** The IP the other side sends to (default: listenIp). */
  readonly announcedIp?: string;
  /** Local port (default: ephemeral). */
  readonly port?: number;
  /** Protect with SRTP (keys in the parameters; exchange them over a channel you trust). Default false. */
  readonly srtp?: boolean | { readonly profile: PipeSrtpProfile };
}

/** What one side of a pipe tells the other. */
export interface PipeParameters {
  readonly ip: string;
  readonly port: number;
  /** SRTP: the profile and this side's sending master key + salt, base64. */
  readonly srtp?: { readonly profile: PipeSrtpProfile; readonly keyBase64: string };
}

/** One end of a pipe between two routers; create with `router.createPipeTransport()`. */
export class PipeTransport extends PlainRtpTransport {
  private readonly announcedIp: string;
  private readonly profile: PipeSrtpProfile | null;
  private readonly localKey: Buffer | null;
  private connected = false;

  private constructor(router: Router, socket: UdpSocket, announcedIp: string, profile: PipeSrtpProfile | null) {
    // One SRTP stream per producer carried each way: room for many more than a connection's 64.
    // Both ends are routers of ours: each reports on its leg (docs/scaling.md "RTCP reports on plain and pipe legs").
    super(router, socket, false, profile ? new SrtpSession({ maxStreams: 1024 }) : null, true);
    this.announcedIp = announcedIp;
    this.profile = profile;
    const lengths = profile ? srtpProfileLengths(SrtpProtectionProfile[profile]) : undefined;
    this.localKey = lengths ? randomBytes(lengths.keyLength + lengths.saltLength) : null;
  }

  /** @internal */
  static create(router: Router, options: PipeTransportOptions): PipeTransport {
    const family = isIP(options?.listenIp ?? '');
    if (family === 0) throw new InvalidArgumentError('ERR_SFU_PIPE_LISTEN_IP', 'listenIp must be an IP address');
    if (options.announcedIp !== undefined && isIP(options.announcedIp) === 0) {
      throw new InvalidArgumentError('ERR_SFU_PIPE_ANNOUNCED_IP', 'announcedIp must be an IP address');
    }
    const srtp = options.srtp;
    const profile = srtp === true ? 'AEAD_AES_128_GCM' : srtp ? srtp.profile : null;
    if (profile !== null && !(profile in SrtpProtectionProfile)) {
      throw new InvalidArgumentError('ERR_SFU_PIPE_SRTP_PROFILE', `unknown SRTP profile ${String(profile)}`);
    }
    const socket = UdpSocket.bindSync({ type: family === 6 ? 'udp6' : 'udp4', address: options.listenIp, port: options.port ?? 0 });
    return new PipeTransport(router, socket, options.announcedIp ?? options.listenIp, profile);
  }

  /** This side's address (and SRTP key) for the other side's connect(). */
  getLocalParameters(): PipeParameters {
    this.assertOpen();
    const local = this.tuple;
    return {
      ip: this.announcedIp,
      port: local.localPort,
      ...(this.profile && this.localKey ? { srtp: { profile: this.profile, keyBase64: this.localKey.toString('base64') } } : {}),
    };
  }

  /** Connects to the other side's getLocalParameters(). Once. */
  connect(remote: PipeParameters): void {
    this.assertOpen();
    if (this.connected) throw new InvalidStateError('ERR_SFU_PIPE_CONNECTED', 'the pipe is already connected');
    if (this.srtp && this.profile && this.localKey) {
      const s = remote?.srtp;
      if (!s || s.profile !== this.profile) throw new InvalidArgumentError('ERR_SFU_PIPE_SRTP', `the other side must use SRTP profile ${this.profile}`);
      const lengths = srtpProfileLengths(SrtpProtectionProfile[this.profile])!;
      const key = Buffer.from(s.keyBase64, 'base64');
      if (key.length !== lengths.keyLength + lengths.saltLength) {
        throw new InvalidArgumentError('ERR_SFU_PIPE_SRTP', `the remote key must be ${lengths.keyLength + lengths.saltLength} bytes`);
      }
      this.srtp.setKeys({
        profile: SrtpProtectionProfile[this.profile],
        localMasterKey: this.localKey.subarray(0, lengths.keyLength),
        localMasterSalt: this.localKey.subarray(lengths.keyLength),
        remoteMasterKey: key.subarray(0, lengths.keyLength),
        remoteMasterSalt: key.subarray(lengths.keyLength),
      });
    } else if (remote?.srtp) {
      throw new InvalidArgumentError('ERR_SFU_PIPE_SRTP', 'the other side uses SRTP and this one does not');
    }
    this.setRemote(remote?.ip, remote?.port);
    this.connected = true;
  }

  /** @internal */
  protected override asksUpstream(): boolean {
    return true;
  }

  /** @internal A pipe keeps the producer's extension ids, less NOT_PIPED_URIS. */
  protected override defaultConsumerExtensions(producer: Producer): { uri: string; id: number }[] {
    return producer.rtp.headerExtensions.filter((e) => !NOT_PIPED_URIS.has(e.uri)).map((e) => ({ uri: e.uri, id: e.id }));
  }
}
