// Copy-and-paste signalling: messages are printed as one JSON line for the user to carry to the
// other peer, and the other peer's lines are read from an input stream (normally stdin).
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { MessageQueue, type SignalingDrops } from './message-queue.js';
import type { SignalingMessage } from './signaling-message.js';
import type { SignalingChannel } from './socket-signaling.js';

/** A channel over a readable (the pasted answers) and a writable (the printed offers). */
export class CopyAndPasteSignaling implements SignalingChannel {
  private readonly queue = new MessageQueue();
  private readonly lines: Interface;
  private closed = false;

  /** Reads pasted lines from `input` (e.g. process.stdin) and prints to `output` (e.g. process.stdout). */
  constructor(input: Readable, private readonly output: Writable) {
    this.lines = createInterface({ input, crlfDelay: Infinity });
    this.lines.on('line', (line) => this.queue.pushLine(line));
    this.lines.on('close', () => this.queue.close('the input ended'));
  }

  /** Lines that were not signalling messages (e.g. pasted text with a typo). */
  get drops(): SignalingDrops {
    return this.queue.drops;
  }

  /** Prints the message as one JSON line, after a hint line starting with `#`. */
  send(message: SignalingMessage): void {
    if (this.closed) return;
    this.output.write(`# copy the next line to the other peer (${message.type})\n${JSON.stringify(message)}\n`);
  }

  /** The next pasted message; rejects with SignalingClosedError once the input ended or after `timeoutMs`. */
  receive(timeoutMs?: number): Promise<SignalingMessage> {
    return this.queue.receive(timeoutMs);
  }

  /** Stops reading the input. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lines.close();
    this.queue.close('the signalling channel was closed');
  }
}
