// Signalling over a stream socket (TCP or a Unix socket): one JSON message per line
// (signaling-message.ts), as the TCP-socket and Unix-socket signalling of aiortc's examples did.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { MessageQueue, type SignalingDrops } from './message-queue.js';
import { MAX_SIGNALING_MESSAGE_BYTES, type SignalingMessage } from './signaling-message.js';

/** What every signalling channel offers. */
export interface SignalingChannel {
  /** Sends one message (silently dropped once closed). */
  send(message: SignalingMessage): void;
  /** The next message; rejects with SignalingClosedError once the channel closed or after `timeoutMs`. */
  receive(timeoutMs?: number): Promise<SignalingMessage>;
  /** Input dropped by reason. */
  readonly drops: SignalingDrops;
  close(): void;
}

/** A channel over a connected socket. */
export class SocketSignaling implements SignalingChannel {
  private readonly queue = new MessageQueue();
  private pending = '';
  /** True while skipping the rest of an over-long line (up to its newline). */
  private skipping = false;
  private closed = false;

  /** Wraps a connected socket (from net.connect or a server's 'connection' event). */
  constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('close', () => this.queue.close('the signalling socket closed'));
    // A reset peer shows up as 'close' too; the error itself carries nothing more to act on.
    socket.on('error', () => {});
  }

  /** Input dropped by reason (malformed JSON, over-long lines, queue overflow). */
  get drops(): SignalingDrops {
    return this.queue.drops;
  }

  /** Writes the message as one JSON line (dropped once closed). */
  send(message: SignalingMessage): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(`${JSON.stringify(message)}\n`);
  }

  /** The next message; rejects with SignalingClosedError once the socket closed or after `timeoutMs`. */
  receive(timeoutMs?: number): Promise<SignalingMessage> {
    return this.queue.receive(timeoutMs);
  }

  /** Ends the socket; pending and later receive() calls reject. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    this.queue.close('the signalling channel was closed');
  }

  private onData(chunk: string): void {
    this.pending += chunk;
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      if (this.skipping) this.skipping = false;
      else this.queue.pushLine(this.pending.slice(0, nl));
      this.pending = this.pending.slice(nl + 1);
    }
    if (this.pending.length > MAX_SIGNALING_MESSAGE_BYTES) {
      // A line longer than any message: count it once and skip to its end rather than buffer it.
      if (!this.skipping) this.queue.drops.malformed++;
      this.skipping = true;
      this.pending = '';
    }
  }
}

/** A listening signalling socket that hands out the connections it accepts. */
export class SignalingListener {
  private readonly accepted: SocketSignaling[] = [];
  private readonly waiters: ((s: SocketSignaling) => void)[] = [];

  /** @internal */
  constructor(readonly server: Server) {
    server.on('connection', (socket) => {
      const channel = new SocketSignaling(socket);
      const w = this.waiters.shift();
      if (w) w(channel);
      else this.accepted.push(channel);
    });
  }

  /** The TCP port, or the Unix socket path. */
  get address(): number | string {
    const a = this.server.address();
    return typeof a === 'string' ? a : a!.port;
  }

  /** The next connection. */
  accept(): Promise<SocketSignaling> {
    const s = this.accepted.shift();
    if (s) return Promise.resolve(s);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops listening and closes accepted connections not yet taken; resolves once taken ones are closed too. */
  close(): Promise<void> {
    for (const s of this.accepted.splice(0)) s.close();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
    });
  }
}

function listen(server: Server, args: [number, string] | [string]): Promise<SignalingListener> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve(new SignalingListener(server));
    };
    if (args.length === 2) server.listen(args[0], args[1], done);
    else server.listen(args[0], done);
  });
}

function connect(socket: Socket): Promise<SocketSignaling> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(new SocketSignaling(socket));
    });
  });
}

/** Listens for TCP signalling connections (port 0 picks one; see `address`). */
export function listenTcpSignaling(port: number, host = '127.0.0.1'): Promise<SignalingListener> {
  return listen(createServer(), [port, host]);
}

/** Connects to a TCP signalling listener. */
export function connectTcpSignaling(port: number, host = '127.0.0.1'): Promise<SocketSignaling> {
  return connect(createConnection({ port, host }));
}

/** Listens on a Unix socket path (the path must not exist). */
export function listenUnixSignaling(path: string): Promise<SignalingListener> {
  return listen(createServer(), [path]);
}

/** Connects to a Unix-socket signalling listener. */
export function connectUnixSignaling(path: string): Promise<SocketSignaling> {
  return connect(createConnection({ path }));
}
