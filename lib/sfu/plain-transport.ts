// A plain RTP transport (docs/scaling.md "Plain transport"): RTP/RTCP in the clear on a UDP port of
// its own, muxed (RFC 5761), for tools that speak neither ICE nor DTLS (ffmpeg `-f rtp`, GStreamer
// udpsink). The remote is set by connect(), or with comedia learned from the first datagram.
import { isIP } from 'node:net';
import { InvalidArgumentError, InvalidStateError } from '../common/errors.js';
import { UdpSocket } from '../transport/source/udp-socket.js';
import { PlainRtpTransport } from './plain-rtp-transport.js';
import type { Router } from './router.js';

/** Options of `router.createPlainTransport()`. */
export interface PlainTransportOptions {
  /** Local IP to bind (IPv4 or IPv6 text). */
  readonly listenIp: string;
  /** Local port (default: an ephemeral one; read it from `tuple.localPort`). */
  readonly port?: number;
  /**
   * Learn the remote from the first RTP/RTCP datagram received (default false). Risk: whoever sends
   * first owns the stream (docs/scaling.md); prefer connect() with the address you expect.
   */
  readonly comedia?: boolean;
  /** RTP and RTCP on one port (RFC 5761); the only mode served. */
  readonly rtcpMux?: true;
  /**
   * Send RTCP reports to the remote (default false): a sender report per consumer (NTP/RTP mapping and
   * counts, for lip sync in a recorder) and a receiver report about each producer (RFC 3550 §6.4), from
   * the engine's counters. Off by default: tools that read RTP from a port and were not told about
   * RTCP on it may not expect them (docs/scaling.md "RTCP reports on plain and pipe legs").
   */
  readonly rtcpReports?: boolean;
}

/** RTP in the clear from/to one remote; create with `router.createPlainTransport()`. */
export class PlainTransport extends PlainRtpTransport {
  private connected = false;

  /** @internal */
  static create(router: Router, options: PlainTransportOptions): PlainTransport {
    const family = isIP(options?.listenIp ?? '');
    if (family === 0) throw new InvalidArgumentError('ERR_SFU_PLAIN_LISTEN_IP', 'listenIp must be an IP address');
    if (options.rtcpMux !== undefined && options.rtcpMux !== true) {
      throw new InvalidArgumentError('ERR_SFU_PLAIN_RTCP_MUX', 'only rtcpMux: true (RTP and RTCP on one port) is served');
    }
    const socket = UdpSocket.bindSync({ type: family === 6 ? 'udp6' : 'udp4', address: options.listenIp, port: options.port ?? 0 });
    return new PlainTransport(router, socket, options.comedia ?? false, null, options.rtcpReports ?? false);
  }

  /** Sets the remote RTP/RTCP address: only its datagrams are admitted, consumers are sent to it. Once. */
  connect(remote: { ip: string; port: number }): void {
    if (this.connected) throw new InvalidStateError('ERR_SFU_PLAIN_CONNECTED', 'the transport is already connected');
    this.setRemote(remote?.ip, remote?.port);
    this.connected = true;
  }
}
