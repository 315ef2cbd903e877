#!/usr/bin/env node
// The package's command line: `echo` (WHIP/WHEP echo server with a browser page), `sfu` (a
// multi-party room page forwarded by the native SFU engine, docs/sfu.md), `whip-client`
// (publishes to a WHIP endpoint, RFC 9725) and `whep-client` (plays a WHEP endpoint), the clients
// printing one JSON summary line.
import { parseArgs } from 'node:util';
import { startEchoServer } from '../echo/echo-server.js';
import { startRoomServer } from '../room/room-server.js';
import { TcpMux } from '../transport/source/tcp-mux.js';
import { UdpMux } from '../transport/source/udp-mux.js';
import type { SrtpProfileName } from '../dtls/srtp-profile.js';
import { runWhipClient } from './whip-client.js';
import { runWhepClient } from './whep-client.js';

const USAGE = `usage:
  pure-webrtc-transport echo [--port 8080] [--host 127.0.0.1] [--udp-port 0 | --own-sockets] [--public-ip IP]
                             [--bind-address IP]... [--ice-lite] [--srtp-profile NAME]... [--token T] [--ice-tcp-port PORT]
  pure-webrtc-transport sfu [--port 8080] [--host 127.0.0.1] [--udp-port 0] [--public-ip IP] [--bind-address IP]
                            [--single-layer] [--max-members 16]
  pure-webrtc-transport whip-client --url URL [--audio] [--video] [--datachannel] [--seconds N]
                             [--audio-file opus.ogg] [--video-file vp8.ivf|vp9.ivf|av1.ivf|h264.h264]
                             [--token T] [--host-address IP]...
  pure-webrtc-transport whep-client --url URL [--seconds N] [--token T] [--host-address IP]...
`;

const SRTP_PROFILES: readonly SrtpProfileName[] = ['AEAD_AES_128_GCM', 'AEAD_AES_256_GCM', 'AES128_CM_HMAC_SHA1_80', 'AES128_CM_HMAC_SHA1_32'];

function srtpProfiles(names: string[] | undefined): SrtpProfileName[] | undefined {
  if (!names || names.length === 0) return undefined;
  for (const n of names) {
    if (!SRTP_PROFILES.includes(n as SrtpProfileName)) throw new Error(`unknown SRTP profile ${n} (one of ${SRTP_PROFILES.join(', ')})`);
  }
  return names as SrtpProfileName[];
}

async function echo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      'public-ip': { type: 'string' },
      'bind-address': { type: 'string', multiple: true },
      'ice-lite': { type: 'boolean', default: false },
      'srtp-profile': { type: 'string', multiple: true },
      token: { type: 'string' },
      'ice-tcp-port': { type: 'string' },
      'udp-port': { type: 'string' },
      'own-sockets': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const udpPort = values['udp-port'] === undefined ? undefined : portOf('udp-port', values['udp-port']);
  if (udpPort !== undefined && values['own-sockets']) throw new Error('--udp-port and --own-sockets exclude each other');
  const tcpPort = values['ice-tcp-port'] === undefined ? undefined : portOf('ice-tcp-port', values['ice-tcp-port']);
  const port = portOf('port', values.port!);
  const publicIp = values['public-ip'];
  // Media sockets bind on --bind-address, else on the HTTP host when it is one address, else on
  // every interface; --public-ip is what the answer announces (a server behind 1:1 NAT).
  const host = values.host!;
  const hostAddresses = values['bind-address'] ?? (isWildcard(host) ? undefined : [host === 'localhost' ? '127.0.0.1' : host]);
  const sharedAddress = values['own-sockets'] ? undefined : sharedPortAddress(hostAddresses, publicIp);
  if (udpPort !== undefined && sharedAddress === undefined) {
    throw new Error('--udp-port binds one address: give one --bind-address, a concrete --host, or --public-ip with a wildcard host');
  }
  // --ice-tcp-port: one listening port for every session's passive ICE-TCP candidate (docs/ice.md
  // "ICE-TCP"), on the first media address, chosen as the shared UDP port's is.
  const tcpAddress = tcpPort === undefined ? undefined : sharedPortAddress(hostAddresses?.slice(0, 1), publicIp);
  if (tcpPort !== undefined && tcpAddress === undefined) throw new Error('--ice-tcp-port on a wildcard address needs --public-ip or a concrete --bind-address');
  const tcpMux = tcpAddress === undefined ? undefined : await TcpMux.listen({ address: tcpAddress, port: tcpPort!, announcedAddress: publicIp });
  // One port for every session by default: its forwarding engine echoes RTP with no JavaScript
  // per packet (docs/echo.md "Native echo").
  const udpMux = sharedAddress === undefined ? undefined : await UdpMux.bind({ address: sharedAddress, port: udpPort ?? 0, announcedAddress: publicIp });
  const server = await startEchoServer({
    udpMux,
    tcpMux,
    port,
    host,
    hostAddresses,
    publicIp,
    iceLite: values['ice-lite'],
    srtpProfiles: srtpProfiles(values['srtp-profile']),
    token: values.token,
    log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
  });
  process.stdout.write(`echo server: open ${server.url} in a browser (WHIP endpoint ${server.whipUrl}, WHEP endpoint ${server.whepUrl}); Ctrl+C stops it\n`);
  const announced = publicIp === undefined ? '' : ` (announced as ${publicIp})`;
  process.stdout.write(udpMux ? `echo server: media on UDP ${hostPort(udpMux.local.address, udpMux.local.port)}${announced} for every session, RTP echoed natively\n` : 'echo server: media on each session\'s own UDP sockets\n');
  if (tcpMux) process.stdout.write(`echo server: ICE-TCP (passive) on ${hostPort(tcpMux.local.address, tcpMux.local.port)}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  udpMux?.close();
  tcpMux?.close();
  return 0;
}

function portOf(name: string, value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port <= 65535)) throw new Error(`--${name}: ${value} is not a port`);
  return port;
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** `address:port`, an IPv6 address in brackets. */
function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * The address the echo server's one shared UDP port binds, or undefined when sessions need their
 * own sockets: a port binds one address and announces one candidate, so several media addresses,
 * or every interface of a wildcard without --public-ip to announce, cannot share it.
 */
function sharedPortAddress(mediaAddresses: string[] | undefined, publicIp: string | undefined): string | undefined {
  if (mediaAddresses !== undefined && mediaAddresses.length !== 1) return undefined;
  const address = mediaAddresses?.[0];
  const publicV6 = publicIp?.includes(':');
  if (address === undefined || isWildcard(address)) {
    if (publicIp === undefined) return undefined;
    // The wildcard of the announced address's family: an IPv4 socket cannot carry IPv6 peers.
    return publicV6 ? '::' : '0.0.0.0';
  }
  if (publicIp !== undefined && publicV6 !== address.includes(':')) {
    throw new Error(`--public-ip ${publicIp} and the media address ${address} are of different IP families`);
  }
  return address;
}

async function sfu(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      'udp-port': { type: 'string', default: '0' },
      'public-ip': { type: 'string' },
      'bind-address': { type: 'string' },
      'single-layer': { type: 'boolean', default: false },
      'max-members': { type: 'string', default: '16' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const maxMembers = Number(values['max-members']);
  if (!Number.isInteger(maxMembers) || maxMembers < 1 || maxMembers > 256) throw new Error(`--max-members: ${values['max-members']} is not 1..256`);
  // Media binds on --bind-address, else on the HTTP host (a wildcard host needs --public-ip).
  const server = await startRoomServer({
    port: portOf('port', values.port!),
    host: values.host,
    udpPort: portOf('udp-port', values['udp-port']!),
    mediaAddress: values['bind-address'],
    publicIp: values['public-ip'],
    maxMembers,
    // Pages publish three VP8 simulcast layers unless --single-layer.
    page: { simulcast: !values['single-layer'] },
    log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
  });
  const media = server.mux.local;
  process.stdout.write(`sfu room server: open ${server.url}?room=main in several browser tabs (media on UDP ${hostPort(media.address, media.port)}); Ctrl+C stops it\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}

async function whipClient(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      audio: { type: 'boolean', default: false },
      video: { type: 'boolean', default: false },
      datachannel: { type: 'boolean', default: false },
      seconds: { type: 'string', default: '5' },
      'audio-file': { type: 'string' },
      'video-file': { type: 'string' },
      token: { type: 'string' },
      'host-address': { type: 'string', multiple: true },
      'srtp-profile': { type: 'string', multiple: true },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.url) throw new Error('--url is required');
  const seconds = Number(values.seconds);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 3600) throw new Error(`--seconds: ${values.seconds} is not 0..3600`);
  const endpoint = new URL(values.url);
  const loopback = endpoint.hostname === '127.0.0.1' || endpoint.hostname === 'localhost';
  const hostAddresses = values['host-address'] ?? (loopback ? ['127.0.0.1'] : undefined);
  const none = !values.audio && !values.video && !values.datachannel;
  const summary = await runWhipClient({
    url: values.url,
    audio: values.audio || none,
    video: values.video || none,
    datachannel: values.datachannel || none,
    seconds,
    audioFile: values['audio-file'],
    videoFile: values['video-file'],
    token: values.token,
    peer: { hostAddresses, srtpProfiles: srtpProfiles(values['srtp-profile']) },
  });
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return summary.ok ? 0 : 1;
}

async function whepClient(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      seconds: { type: 'string', default: '5' },
      token: { type: 'string' },
      'host-address': { type: 'string', multiple: true },
      'srtp-profile': { type: 'string', multiple: true },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.url) throw new Error('--url is required');
  const seconds = Number(values.seconds);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 3600) throw new Error(`--seconds: ${values.seconds} is not 0..3600`);
  const endpoint = new URL(values.url);
  const loopback = endpoint.hostname === '127.0.0.1' || endpoint.hostname === 'localhost';
  const summary = await runWhepClient({
    url: values.url,
    seconds,
    token: values.token,
    peer: { hostAddresses: values['host-address'] ?? (loopback ? ['127.0.0.1'] : undefined), srtpProfiles: srtpProfiles(values['srtp-profile']) },
  });
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return summary.ok ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'echo') return await echo(rest);
    if (command === 'sfu') return await sfu(rest);
    if (command === 'whip-client') return await whipClient(rest);
    if (command === 'whep-client') return await whepClient(rest);
    if (command === '--help' || command === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    process.stderr.write(command ? `unknown command ${command}\n${USAGE}` : USAGE);
    return 2;
  } catch (error) {
    process.stderr.write(`pure-webrtc-transport: ${(error as Error).message}\n`);
    return 2;
  }
}

// Exit explicitly: the native UDP handles of a closed connection must not keep the process up.
// No top-level await: the published command line is CommonJS (docs/release.md).
void main(process.argv.slice(2)).then((code) => process.exit(code));
