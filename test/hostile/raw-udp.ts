// Node side of raw-udp.py: UDP datagrams with a forged IPv4 source address (the peer's own
// address and port) and a sniffer of UDP payloads between two ports. Needs root (CAP_NET_RAW).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** An IPv4 address and port. */
export interface Endpoint {
  address: string;
  port: number;
}

/** UDP checksum written by the helper: 0 (none, allowed over IPv4 by RFC 768), computed, or wrong. */
export type ChecksumMode = 'zero' | 'valid' | 'bad';

interface Reply {
  ok: boolean;
  error?: string;
  sent?: number;
  payloads?: string[];
}

const SCRIPT = fileURLToPath(new URL('./raw-udp.py', import.meta.url));

/** One python3 helper process; commands run one at a time, in order. */
export class RawUdp {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly waiting: ((r: Reply) => void)[] = [];
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.child = child;
    this.lines = createInterface({ input: child.stdout });
    this.lines.on('line', (line) => {
      const w = this.waiting.shift();
      if (w) w(JSON.parse(line) as Reply);
    });
    child.on('exit', () => {
      for (const w of this.waiting.splice(0)) w({ ok: false, error: 'raw-udp helper exited' });
    });
  }

  /** Starts the helper; resolves to the reason when raw sockets are unavailable (not root, no python3). */
  static async open(): Promise<RawUdp | string> {
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn('python3', [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      return `python3 not available: ${String(err)}`;
    }
    const raw = new RawUdp(child);
    const first = await Promise.race([
      new Promise<Reply>((resolve) => raw.waiting.push(resolve)),
      new Promise<Reply>((resolve) => child.once('error', (e) => resolve({ ok: false, error: String(e) }))),
      new Promise<Reply>((resolve) => setTimeout(() => resolve({ ok: false, error: 'raw-udp helper did not start in 5 s' }), 5000).unref()),
    ]);
    if (!first.ok) {
      raw.close();
      return first.error ?? 'raw sockets unavailable';
    }
    return raw;
  }

  /** Sends each payload as one UDP datagram from `src` (forged) to `dst`. */
  async send(src: Endpoint, dst: Endpoint, payloads: readonly Uint8Array[], checksum: ChecksumMode = 'zero'): Promise<number> {
    const r = await this.call({ op: 'send', src: [src.address, src.port], dst: [dst.address, dst.port], payloads: payloads.map((p) => Buffer.from(p).toString('base64')), checksum });
    return r.sent ?? 0;
  }

  /**
   * Sends `count` seeded pseudo-random datagrams of minLen..maxLen bytes whose first byte is one
   * of `firstBytes`, pausing briefly every `burst` datagrams (0: no pause).
   */
  async flood(src: Endpoint, dst: Endpoint, o: { count: number; seed: number; minLen: number; maxLen: number; firstBytes?: number[]; burst?: number }): Promise<number> {
    const r = await this.call({ op: 'flood', src: [src.address, src.port], dst: [dst.address, dst.port], ...o });
    return r.sent ?? 0;
  }

  /** Up to `max` payloads seen from `src` to `dst` within `ms`, first byte in [lo, hi] (and second byte `second` when given). */
  async capture(src: Endpoint, dst: Endpoint, max: number, ms: number, lo = 0, hi = 255, second?: number): Promise<Buffer[]> {
    const r = await this.call({ op: 'capture', src: [src.address, src.port], dst: [dst.address, dst.port], max, ms, firstByteMin: lo, firstByteMax: hi, ...(second !== undefined ? { secondByte: second } : {}) });
    return (r.payloads ?? []).map((p) => Buffer.from(p, 'base64'));
  }

  /** Ends the helper. */
  close(): void {
    this.lines.close();
    this.child.stdin.end();
    this.child.kill();
  }

  private call(cmd: object): Promise<Reply> {
    const run = async (): Promise<Reply> => {
      const reply = new Promise<Reply>((resolve) => this.waiting.push(resolve));
      this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
      const r = await reply;
      if (!r.ok) throw new Error(`raw-udp: ${r.error ?? 'failed'}`);
      return r;
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }
}
