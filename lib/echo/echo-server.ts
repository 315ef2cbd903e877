// The echo server: an HTTP server with a WHIP endpoint (RFC 9725) whose sessions echo RTP and
// data-channel messages (echo-session.ts), a WHEP endpoint (draft-ietf-wish-whep) that plays a
// published session's media to subscribers (whep-subscriber.ts), the browser page at `/`, and
// JSON stats per session.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWhipHandler, WhipRejection, type WhipIceServer } from '../signaling/whip-server.js';
import { EchoSession, type EchoSessionOptions } from './echo-session.js';
import { WhepSubscriber } from './whep-subscriber.js';
import { messagePlan } from './message-plan.js';
import { OfferQueue } from './offer-queue.js';
import { renderEchoPage } from './page.js';
import { Router } from '../sfu/router.js';

/** Options of {@link startEchoServer}. */
export interface EchoServerOptions extends EchoSessionOptions {
  /** HTTP port (default 8080; 0 picks a free one). */
  port?: number;
  /** Address the HTTP server listens on (default 127.0.0.1). */
  host?: string;
  /** Most sessions at once (default 32); further offers get 503. */
  maxSessions?: number;
  /** A session not connected this many ms after its offer is ended (default 30000). */
  connectTimeoutMs?: number;
  /** Where connection events go (default: nowhere). */
  log?: (line: string) => void;
  /** Bearer token WHIP requests must carry (RFC 9725 §4.5; default none). */
  token?: string;
  /** STUN/TURN servers announced to clients in `Link` headers (RFC 9725 §4.6). */
  iceServers?: WhipIceServer[];
  /**
   * With `udpMux`: the port's forwarding engine echoes the RTP (default true; docs/echo.md "Native
   * echo"). The server makes a Router on the port unless `router` is given, and Router.create
   * throws ERR_SFU_ATTACH when another router is attached there. False keeps the JavaScript echo.
   */
  nativeEcho?: boolean;
}

/** A running echo server. */
export interface EchoServer {
  /** `http://host:port/`. */
  readonly url: string;
  /** The WHIP endpoint URL. */
  readonly whipUrl: string;
  /**
   * The WHEP endpoint URL: plays the newest published session, or the one named by `?from=<id>`
   * (a WHIP session id, the last part of its Location).
   */
  readonly whepUrl: string;
  /** Live sessions by id. */
  readonly sessions: ReadonlyMap<string, EchoSession>;
  /** Live WHEP subscribers by id. */
  readonly subscribers: ReadonlyMap<string, WhepSubscriber>;
  /** Closes every session and the HTTP server. */
  close(): Promise<void>;
}

/** Starts the server; resolves once it listens. */
export async function startEchoServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  const log = options.log ?? (() => {});
  const maxSessions = options.maxSessions ?? 32;
  const sessions = new Map<string, EchoSession>();
  const subscribers = new Map<string, WhepSubscriber>();
  const native = options.nativeEcho ?? true;
  // Made just before the server listens: nothing thrown before that leaves it on the port.
  let ownRouter: Router | undefined;
  const sessionOptions: EchoSessionOptions = {
    tcpMux: options.tcpMux,
    iceLite: options.iceLite,
    hostAddresses: options.hostAddresses,
    portRange: options.portRange,
    srtpProfiles: options.srtpProfiles,
    certificates: options.certificates,
    answerDtlsRole: options.answerDtlsRole,
    publicIp: options.publicIp,
    rtpPolicies: options.rtpPolicies,
    // Every session on one shared UDP port (lib/transport/source/udp-mux.ts), as an SFU runs.
    udpMux: options.udpMux,
    // There the port's forwarding engine echoes the RTP (docs/echo.md "Native echo").
    router: native ? options.router : undefined,
  };
  const page = renderEchoPage(messagePlan());
  // One answer at a time, each in its own loop turn: a burst of offers answered back to back kept
  // the page (and every packet) waiting for all of them (docs/architecture.md "Soak and load").
  const answers = new OfferQueue();
  let closing = false;

  const end = (id: string, why: string): boolean => {
    const s = sessions.get(id);
    if (!s) return false;
    sessions.delete(id);
    whip.forget(id);
    s.close();
    for (const [subId, sub] of subscribers) if (sub.publisher === s) endSubscriber(subId, 'its publisher ended');
    const c = s.counters;
    log(`session ${id} ended (${why}): echoed ${c.rtp.audio.echoed} audio + ${c.rtp.video.echoed} video RTP packets, ${c.messagesEchoed} messages`);
    return true;
  };

  const whip = createWhipHandler({
    offer: async (id, sdp, req) => {
      if (sessions.size + answers.pending >= maxSessions) throw new WhipRejection(503, `too many sessions (${maxSessions})`);
      const session = await answers.run(() => {
        if (closing) throw new WhipRejection(503, 'the server is closing');
        return EchoSession.answer(id, sdp, sessionOptions);
      });
      // An offer answered while close() ran would otherwise outlive the server with its sockets.
      if (closing) {
        session.close();
        throw new WhipRejection(503, 'the server is closing');
      }
      sessions.set(id, session);
      log(`session ${id} from ${req.socket.remoteAddress ?? '?'}: offer accepted`);
      // A client that posted an offer and went away must not hold sockets forever. The timer is
      // cleared once connected or ended: its closure would otherwise keep the whole session
      // (peer connection, SCTP, buffers) in memory for the rest of the timeout.
      const connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
      const connectTimer = setTimeout(() => {
        if (sessions.get(id) === session && session.pc.connectionState !== 'connected') end(id, `not connected within ${connectTimeoutMs} ms`);
      }, connectTimeoutMs).unref();
      session.pc.on('connectionstatechange', () => {
        const state = session.pc.connectionState;
        log(`session ${id}: ${state}`);
        if (state === 'connected' || state === 'failed' || state === 'closed') clearTimeout(connectTimer);
        if (state === 'failed' || state === 'closed') end(id, state);
      });
      session.pc.on('datachannel', (e) => log(`session ${id}: data channel '${e.channel.label}'`));
      session.pc.on('track', (e) => log(`session ${id}: ${e.track.kind} track`));
      return session.answer;
    },
    end: (id) => end(id, 'DELETE'),
    trickle: async (id, fragment) => {
      const s = sessions.get(id);
      if (!s) return false;
      await s.trickle(fragment);
      return true;
    },
    restartIce: async (id, fragment) => {
      const s = sessions.get(id);
      if (!s) return undefined;
      const ours = await s.restartIce(fragment);
      log(`session ${id}: ICE restart`);
      return ours;
    },
  }, { token: options.token, iceServers: options.iceServers });

  const endSubscriber = (id: string, why: string): boolean => {
    const sub = subscribers.get(id);
    if (!sub) return false;
    subscribers.delete(id);
    whep.forget(id);
    sub.close();
    const c = sub.counters;
    log(`WHEP subscriber ${id} ended (${why}): forwarded ${c.rtp.audio.forwarded} audio + ${c.rtp.video.forwarded} video RTP packets`);
    return true;
  };

  const whep = createWhipHandler({
    offer: async (id, sdp, req) => {
      if (sessions.size + subscribers.size + answers.pending >= maxSessions) throw new WhipRejection(503, `too many sessions (${maxSessions})`);
      const from = new URL(req.url ?? '/', 'http://x').searchParams.get('from');
      const publisher = from !== null ? sessions.get(from) : [...sessions.values()].filter((x) => x.pc.connectionState === 'connected').at(-1);
      if (!publisher) throw new WhipRejection(404, from !== null ? `no published session ${from}` : 'no published session to play');
      const sub = await answers.run(() => WhepSubscriber.answer(id, sdp, publisher, sessionOptions));
      subscribers.set(id, sub);
      log(`WHEP subscriber ${id} plays session ${publisher.id}`);
      sub.pc.on('connectionstatechange', () => {
        const state = sub.pc.connectionState;
        log(`WHEP subscriber ${id}: ${state}`);
        if (state === 'failed' || state === 'closed') endSubscriber(id, state);
      });
      const connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
      setTimeout(() => {
        if (subscribers.get(id) === sub && sub.pc.connectionState !== 'connected') endSubscriber(id, `not connected within ${connectTimeoutMs} ms`);
      }, connectTimeoutMs).unref();
      return sub.answer;
    },
    end: (id) => endSubscriber(id, 'DELETE'),
    trickle: async (id, fragment) => {
      const sub = subscribers.get(id);
      if (!sub) return false;
      await sub.trickle(fragment);
      return true;
    },
  }, { path: '/whep', token: options.token, iceServers: options.iceServers });

  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        if (await whip(req, res)) return;
        if (await whep(req, res)) return;
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
          res.end(page);
          return;
        }
        if (path === '/favicon.ico') {
          res.writeHead(204);
          res.end();
          return;
        }
        if (req.method === 'GET' && path.startsWith('/sessions/')) {
          const s = sessions.get(decodeURIComponent(path.slice('/sessions/'.length)));
          if (!s) {
            res.writeHead(404, { 'content-type': 'text/plain' });
            res.end('no such session\n');
            return;
          }
          const stats = [...(await s.pc.getStats()).values()];
          res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify({ session: s.snapshot(), stats }, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)));
          return;
        }
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found\n');
      } catch (error) {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`internal error: ${(error as Error).message}\n`);
      }
    })();
  });
  if (native && options.udpMux && !options.router) sessionOptions.router = ownRouter = Router.create(options.udpMux);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => resolve());
    });
  } catch (error) {
    // The port's forwarding engine must not stay attached for a server that never ran.
    ownRouter?.close();
    throw error;
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}/`;
  return {
    url,
    whipUrl: `${url}whip`,
    whepUrl: `${url}whep`,
    sessions,
    subscribers,
    async close(): Promise<void> {
      closing = true;
      for (const id of [...subscribers.keys()]) endSubscriber(id, 'server closing');
      for (const id of [...sessions.keys()]) end(id, 'server closing');
      ownRouter?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
