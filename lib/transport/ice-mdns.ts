// Resolves remote `<uuid>.local` ICE candidates with a one-shot multicast DNS query
// (RFC 6762 §5.1, QU bit §5.4; DNS message format RFC 1035 §4.1).
import { createSocket } from 'node:dgram';

const MDNS_GROUP = '224.0.0.251';
const MDNS_PORT = 5353;
const TYPE_A = 1;

/** A DNS query for the A record of `name`, asking for a unicast response (QU). */
export function encodeMdnsQuery(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) {
    const b = Buffer.from(l, 'utf8');
    if (b.length === 0 || b.length > 63) throw new RangeError('bad DNS label');
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0, 0, TYPE_A, 0x80, 0x01]));
  return Buffer.concat(parts);
}

/** Reads a (possibly compressed) name at `off`; returns it and the offset after it, or undefined. */
function readName(buf: Buffer, off: number): { name: string; next: number } | undefined {
  const labels: string[] = [];
  let next = -1;
  for (let hops = 0; hops < 32; hops++) {
    if (off >= buf.length) return undefined;
    const len = buf[off]!;
    if (len === 0) return { name: labels.join('.'), next: next < 0 ? off + 1 : next };
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= buf.length) return undefined;
      if (next < 0) next = off + 2;
      off = ((len & 0x3f) << 8) | buf[off + 1]!;
      continue;
    }
    if (off + 1 + len > buf.length) return undefined;
    labels.push(buf.toString('utf8', off + 1, off + 1 + len));
    off += 1 + len;
  }
  return undefined;
}

/** The IPv4 address an mDNS response gives for `name`, if any. Never throws. */
export function parseMdnsAnswer(buf: Buffer, name: string): string | undefined {
  if (buf.length < 12 || (buf[2]! & 0x80) === 0) return undefined;
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  let off = 12;
  for (let i = 0; i < qd; i++) {
    const q = readName(buf, off);
    if (!q) return undefined;
    off = q.next + 4;
  }
  const want = name.replace(/\.$/, '').toLowerCase();
  for (let i = 0; i < an && off < buf.length; i++) {
    const r = readName(buf, off);
    if (!r || r.next + 10 > buf.length) return undefined;
    const type = buf.readUInt16BE(r.next);
    const rdlen = buf.readUInt16BE(r.next + 8);
    const rdata = r.next + 10;
    if (rdata + rdlen > buf.length) return undefined;
    if (type === TYPE_A && rdlen === 4 && r.name.toLowerCase() === want) {
      return `${buf[rdata]}.${buf[rdata + 1]}.${buf[rdata + 2]}.${buf[rdata + 3]}`;
    }
    off = rdata + rdlen;
  }
  return undefined;
}

/**
 * Sends one mDNS query and resolves with the first matching A record, or undefined after
 * `timeoutMs` (default 1500) or on any socket error.
 */
export function resolveMdnsName(name: string, timeoutMs = 1500): Promise<string | undefined> {
  return new Promise((resolve) => {
    let query: Buffer;
    try {
      query = encodeMdnsQuery(name);
    } catch {
      resolve(undefined);
      return;
    }
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    let done = false;
    const finish = (address: string | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolve(address);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.on('error', () => finish(undefined));
    socket.on('message', (msg) => {
      const a = parseMdnsAnswer(msg, name);
      if (a) finish(a);
    });
    socket.bind(0, () => socket.send(query, MDNS_PORT, MDNS_GROUP, (err) => err && finish(undefined)));
  });
}
