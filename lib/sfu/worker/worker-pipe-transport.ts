// WorkerPipeTransport: the main thread's handle on a pipe transport of a room on a router worker
// (docs/scaling.md "Pipes between workers"). Same calls as lib/sfu/pipe-transport.ts, as messages.
import { InvalidStateError } from '../../common/errors.js';
import type { MediaKind } from '../../peer/media-stream-track.js';
import type { PipeParameters } from '../pipe-transport.js';
import type { PlainProduceOptions, PlainRtpStream } from '../plain-rtp-transport.js';
import type { WorkerRoom } from './worker-room.js';

/** One end of a pipe in a worker room; create with `room.createPipeTransport()`. */
export class WorkerPipeTransport {
  /** The pipe's id in its worker. */
  readonly id: number;
  /** This end's address (and SRTP key) for the other end's connect(). */
  readonly localParameters: PipeParameters;
  private closedValue = false;

  /** @internal */
  constructor(
    private readonly room: WorkerRoom,
    id: number,
    localParameters: PipeParameters,
  ) {
    this.id = id;
    this.localParameters = localParameters;
  }

  /** Closed by close(), or with its room or worker. */
  get closed(): boolean {
    return this.closedValue || this.room.closed;
  }

  /** Connects to the other end's localParameters (a second call rejects with ERR_SFU_PIPE_CONNECTED). */
  async connect(remote: PipeParameters): Promise<void> {
    await this.room.request({ op: 'connectPipe', room: this.room.id, pipe: this.id, remote: { ...remote } });
  }

  /** Sends the room's `producer` into the pipe; resolves with the stream to hand to the other end's produceFromPipe(). */
  async pipeProducer(producer: number): Promise<PlainRtpStream> {
    this.assertOpen();
    const { stream } = await this.room.request({ op: 'pipeProducer', room: this.room.id, pipe: this.id, producer });
    return stream;
  }

  /** Takes a stream the other end piped in; resolves with a producer id the room's consume() accepts. */
  produceFromPipe(stream: PlainProduceOptions): Promise<{ producer: number; kind: MediaKind; ssrc: number }> {
    this.assertOpen();
    return this.room.request({ op: 'produceFromPipe', room: this.room.id, pipe: this.id, stream: { ...stream } });
  }

  /** Closes the pipe, its consumers and producers. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closedValue = true;
    await this.room.request({ op: 'closePipe', room: this.room.id, pipe: this.id });
  }

  private assertOpen(): void {
    if (this.closedValue) throw new InvalidStateError('ERR_WORKER_PIPE_CLOSED', `pipe ${this.id} is closed`);
  }
}
