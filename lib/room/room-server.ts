// The room server behind `pure-webrtc-transport sfu` (docs/sfu.md "Room server"): an HTTP server that
// serves the room page at `/`, answers the page's JSON signaling (join = publish offer, subscribe =
// one recvonly offer per other member, leave, state polling) and forwards every member's media to
// every other member through one UdpMux port and one native Router (lib/sfu).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PwtError } from '../common/errors.js';
import { UdpMux } from '../transport/source/udp-mux.js';
import { Router, type RouterStats } from '../sfu/index.js';
import { Room, type RoomSnapshot } from './room.js';
import { renderRoomPage, type RoomPageConfig } from './room-page.js';
// Installs the default policy modules (RTCP reports, NACK, keyframe requests, transport-cc feedback).
import '../policy/default-policies.js';

/** Options of {@link startRoomServer}. */
export interface RoomServerOptions {
  /** HTTP port (default 8080; 0 picks a free one). */
  port?: number;
  /** Address the HTTP server listens on (default 127.0.0.1). */
  host?: string;
  /** Address the media port binds (default: `host`, or 0.0.0.0 when host is a wildcard). */
  mediaAddress?: string;
  /** The one UDP port of every connection (default 0: an ephemeral port). */
  udpPort?: number;
  /** Public IP announced in answers (needed when the media address is a wildcard). */
  publicIp?: string;
  /** Most members per room (default 16) and most rooms (default 64). */
  maxMembers?: number;
  maxRooms?: number;
  /** A connection not connected this many ms after its offer is closed (default 30000). */
  connectTimeoutMs?: number;
  /** What the page captures and how it publishes (default 1280x720 at 30 fps, simulcast). */
  page?: Partial<RoomPageConfig>;
  /** Where join/leave events go (default: nowhere). */
  log?: (line: string) => void;
}

/** The server's state as `GET /stats` shows it. */
export interface RoomServerStats {
  readonly router: RouterStats;
  readonly rooms: RoomSnapshot[];
}

/** A running room server. */
export interface RoomServer {
  /** `http://host:port/`. */
  readonly url: string;
  /** The shared media port. */
  readonly mux: UdpMux;
  readonly router: Router;
  /** Open rooms by name. */
  readonly rooms: ReadonlyMap<string, Room>;
  stats(): RoomServerStats;
  /** Closes every room, the router, the media port and the HTTP server. */
  close(): Promise<void>;
}

const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_BODY = 64 * 1024;

/** A request error with its HTTP status (the message goes to the client as JSON). */
class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** HTTP status of an error thrown while serving a request. */
function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  if (error instanceof PwtError) {
    if (error.code === 'ERR_ROOM_NO_MEMBER') return 404;
    if (error.code === 'ERR_ROOM_FULL' || error.code === 'ERR_ROOM_CLOSED') return 503;
    if (error.code === 'ERR_ROOM_NOT_PUBLISHING' || error.code === 'ERR_ROOM_NO_VIDEO' || error.code === 'ERR_ROOM_NOT_SUBSCRIBED') return 409;
    // The offer was refused (malformed SDP, nothing we can answer): the client's fault.
    return 400;
  }
  return 500;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, `body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'the body is not a JSON object');
  return body as Record<string, unknown>;
}

function stringField(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (typeof v !== 'string' || v.length === 0) throw new HttpError(400, `"${name}" must be a non-empty string`);
  return v;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(value));
}

/** Starts the server; resolves once it listens on HTTP and on the media port. */
export async function startRoomServer(options: RoomServerOptions = {}): Promise<RoomServer> {
  const log = options.log ?? (() => {});
  const host = options.host ?? '127.0.0.1';
  const wildcard = (a: string): boolean => a === '0.0.0.0' || a === '::';
  const mediaAddress = options.mediaAddress ?? (host === 'localhost' ? '127.0.0.1' : wildcard(host) ? '0.0.0.0' : host);
  const mux = await UdpMux.bind({ address: mediaAddress, port: options.udpPort ?? 0, announcedAddress: options.publicIp });
  let router: Router;
  try {
    router = Router.create(mux);
  } catch (error) {
    mux.close();
    throw error;
  }
  const rooms = new Map<string, Room>();
  // Joins under way per room: an empty room is dropped only when none is pending.
  const joining = new Map<Room, number>();
  const dropIfEmpty = (name: string, room: Room): void => {
    if (room.members.size === 0 && !joining.has(room) && rooms.get(name) === room) {
      rooms.delete(name);
      room.close();
    }
  };
  const maxRooms = options.maxRooms ?? 64;
  const page = renderRoomPage({ width: 1280, height: 720, frameRate: 30, simulcast: true, ...options.page });

  const roomNamed = (name: string, create: boolean): Room => {
    if (!ROOM_NAME.test(name)) throw new HttpError(400, 'a room name is 1..64 of A-Z a-z 0-9 _ -');
    let room = rooms.get(name);
    if (room) return room;
    if (!create) throw new HttpError(404, `no room ${name}`);
    if (rooms.size >= maxRooms) throw new HttpError(503, `too many rooms (${maxRooms})`);
    room = new Room(name, {
      router,
      config: { udpMux: mux },
      publicIp: options.publicIp,
      maxMembers: options.maxMembers,
      connectTimeoutMs: options.connectTimeoutMs,
    });
    const r = room;
    r.on('join', (m) => log(`room ${name}: member ${m.id} joined (${r.members.size} members)`));
    r.on('leave', (m, why) => {
      log(`room ${name}: member ${m.id} left (${why}; ${r.members.size} members)`);
      dropIfEmpty(name, r);
    });
    rooms.set(name, r);
    return r;
  };

  const stats = (): RoomServerStats => ({ router: router.stats, rooms: [...rooms.values()].map((r) => r.snapshot()) });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
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
    if (req.method === 'GET' && path === '/stats') return sendJson(res, 200, stats());
    // /rooms/<room>/join and /rooms/<room>/members/<id>[/<action>]
    let parts: string[];
    try {
      parts = path.split('/').slice(1).map((p) => decodeURIComponent(p));
    } catch {
      throw new HttpError(400, 'malformed percent-encoding in the path');
    }
    if (parts[0] !== 'rooms' || parts.length < 3) throw new HttpError(404, 'not found');
    const roomName = parts[1]!;
    if (parts.length === 3 && parts[2] === 'join' && req.method === 'POST') {
      const offer = stringField(await readJson(req), 'offer');
      const room = roomNamed(roomName, true);
      joining.set(room, (joining.get(room) ?? 0) + 1);
      try {
        const member = await room.join(offer);
        return sendJson(res, 201, { member: member.id, answer: member.answer });
      } finally {
        const left = (joining.get(room) ?? 1) - 1;
        if (left > 0) joining.set(room, left);
        else joining.delete(room);
        dropIfEmpty(roomName, room);
      }
    }
    if (parts[2] !== 'members' || parts.length < 4 || parts.length > 5) throw new HttpError(404, 'not found');
    const room = roomNamed(roomName, false);
    const memberId = parts[3]!;
    const action = parts[4];
    if ((action === undefined && req.method === 'DELETE') || (action === 'leave' && req.method === 'POST')) {
      if (!room.leave(memberId)) throw new HttpError(404, `no member ${memberId}`);
      res.writeHead(204);
      res.end();
      return;
    }
    if (action === 'subscribe' && req.method === 'POST') {
      const body = await readJson(req);
      const subscription = await room.subscribe(memberId, stringField(body, 'from'), stringField(body, 'offer'));
      return sendJson(res, 200, { answer: subscription.answer });
    }
    if (action === 'layers' && req.method === 'POST') {
      const body = await readJson(req);
      if (body.auto !== undefined) {
        if (typeof body.auto !== 'boolean') throw new HttpError(400, '"auto" must be a boolean');
        return sendJson(res, 200, room.setAutoLayers(memberId, stringField(body, 'from'), body.auto));
      }
      const spatialLayer = body.spatialLayer;
      const temporalLayer = body.temporalLayer;
      if (typeof spatialLayer !== 'number' || (temporalLayer !== undefined && typeof temporalLayer !== 'number')) {
        throw new HttpError(400, '"spatialLayer" (and "temporalLayer", if given) must be numbers');
      }
      const chosen = room.setPreferredLayers(memberId, stringField(body, 'from'), { spatialLayer, ...(temporalLayer !== undefined ? { temporalLayer } : {}) });
      return sendJson(res, 200, chosen);
    }
    if (action === 'state' && req.method === 'GET') {
      room.member(memberId);
      return sendJson(res, 200, { member: memberId, room: room.snapshot(), router: router.stats });
    }
    throw new HttpError(404, 'not found');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = statusOf(error);
      if (res.headersSent) {
        res.end();
        return;
      }
      sendJson(res, status, { error: (error as Error).message, ...(error instanceof PwtError ? { code: error.code } : {}) });
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8080, host, () => resolve());
    });
  } catch (error) {
    router.close();
    mux.close();
    throw error;
  }
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shownHost}:${addr.port}/`,
    mux,
    router,
    rooms,
    stats,
    async close(): Promise<void> {
      for (const [name, room] of [...rooms]) {
        rooms.delete(name);
        room.close();
      }
      router.close();
      mux.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
