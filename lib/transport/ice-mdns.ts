// Resolves remote `<uuid>.local` ICE candidates with a one-shot multicast DNS query
// (RFC 6762 §5.1, QU bit §5.4; DNS message format RFC 1035 §4.1; AAAA RFC 3596). One query asks
// for both the A and the AAAA record (Chromium announces an IPv6 address on IPv6-only hosts), sent
// to the IPv4 group and to the IPv6 link-local group; the first usable address answers. Every
// answer record that is not used is counted by reason (docs/ice.md "mDNS").
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';

const TYPE_A = 1;
const TYPE_CNAME = 5;
const TYPE_AAAA = 28;
const TYPE_NSEC = 47;

/** Where the query goes: the mDNS groups by default (tests point it at a local responder). */
export interface MdnsTarget {
  type: 'udp4' | 'udp6';
  address: string;
  port: number;
}

/** The IPv4 and IPv6 link-local mDNS groups (RFC 6762 §3). */
export const MDNS_TARGETS: readonly MdnsTarget[] = [
  { type: 'udp4', address: '224.0.0.251', port: 5353 },
  { type: 'udp6', address: 'ff02::fb', port: 5353 },
];

/**
 * Why an answer record of a response to our query was not used:
 * - `malformed`: the response or the record is truncated, a name is unreadable, or an A/AAAA
 *   record's data is not 4/16 bytes;
 * - `name-mismatch`: an A/AAAA/CNAME record for another name;
 * - `other-type`: a record of a type we did not ask for (TXT, PTR, SRV, ...; NSEC, the "no such
 *   record" hint responders add, is not counted);
 * - `cname`: an alias (ICE names are A/AAAA records; aliases are not followed);
 * - `unusable-address`: unspecified, loopback, multicast, broadcast or IPv6 link-local (no zone
 *   is known for it) address.
 */
export type MdnsDropReason = 'malformed' | 'name-mismatch' | 'other-type' | 'cname' | 'unusable-address';

export function newMdnsDrops(): Record<MdnsDropReason, number> {
  return { malformed: 0, 'name-mismatch': 0, 'other-type': 0, cname: 0, 'unusable-address': 0 };
}

/** A DNS query for the A and the AAAA record of `name`, asking for a unicast response (QU). */
export function encodeMdnsQuery(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, 'utf8');
    if (b.length === 0 || b.length > 63) throw new RangeError('bad DNS label');
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  const qname = Buffer.concat(parts);
  return Buffer.concat([
    Buffer.from([0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0]),
    qname, Buffer.from([0, TYPE_A, 0x80, 0x01]),
    qname, Buffer.from([0, TYPE_AAAA, 0x80, 0x01]),
  ]);
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
    if ((len & 0xc0) !== 0 || off + 1 + len > buf.length) return undefined;
    labels.push(buf.toString('utf8', off + 1, off + 1 + len));
    off += 1 + len;
  }
  return undefined;
}

/** False for addresses a peer cannot be reached at (see `unusable-address`). */
export function isUsableMdnsAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) {
    const a = Number(address.slice(0, address.indexOf('.')));
    return !(a === 0 || a === 127 || a >= 224); // unspecified, loopback, multicast, reserved and broadcast
  }
  if (family === 6) {
    const lower = address.toLowerCase();
    if (lower === '::' || lower === '::1') return false;
    if (lower.startsWith('ff')) return false; // multicast
    if (/^fe[89ab]/.test(lower)) return false; // link-local: needs a zone we do not know
    const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (dotted) return isUsableMdnsAddress(dotted[1]!);
    const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
    if (hex) {
      const hi = parseInt(hex[1]!, 16);
      const lo = parseInt(hex[2]!, 16);
      return isUsableMdnsAddress(`${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`);
    }
    return true;
  }
  return false;
}

function ipv6Text(buf: Buffer, off: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(off + 2 * i).toString(16));
  // Compress the longest run of zero groups (RFC 5952 §4.2).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/**
 * The usable address an mDNS response gives for `name` (an A record first, else AAAA), if any.
 * Never throws. Records not used are counted in `drops` (when given) by {@link MdnsDropReason};
 * a message that is not a response is not counted.
 */
export function parseMdnsAnswer(buf: Buffer, name: string, drops?: Record<MdnsDropReason, number>): string | undefined {
  if (buf.length < 12 || (buf[2]! & 0x80) === 0) return undefined;
  const count = (reason: MdnsDropReason): void => {
    if (drops) drops[reason]++;
  };
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  let off = 12;
  for (let i = 0; i < qd; i++) {
    const q = readName(buf, off);
    if (!q || q.next + 4 > buf.length) {
      count('malformed');
      return undefined;
    }
    off = q.next + 4;
  }
  const want = name.replace(/\.$/, '').toLowerCase();
  let v4: string | undefined;
  let v6: string | undefined;
  for (let i = 0; i < an; i++) {
    const r = off < buf.length ? readName(buf, off) : undefined;
    if (!r || r.next + 10 > buf.length) {
      count('malformed');
      break;
    }
    const type = buf.readUInt16BE(r.next);
    const rdlen = buf.readUInt16BE(r.next + 8);
    const rdata = r.next + 10;
    if (rdata + rdlen > buf.length) {
      count('malformed');
      break;
    }
    off = rdata + rdlen;
    if (type === TYPE_NSEC) continue;
    if (type !== TYPE_A && type !== TYPE_AAAA && type !== TYPE_CNAME) count('other-type');
    else if (r.name.toLowerCase() !== want) count('name-mismatch');
    else if (type === TYPE_CNAME) count('cname');
    else if (rdlen !== (type === TYPE_A ? 4 : 16)) count('malformed');
    else {
      const address = type === TYPE_A ? `${buf[rdata]}.${buf[rdata + 1]}.${buf[rdata + 2]}.${buf[rdata + 3]}` : ipv6Text(buf, rdata);
      if (!isUsableMdnsAddress(address)) count('unusable-address');
      else if (type === TYPE_A) {
        if (v4 === undefined) v4 = address;
      } else if (v6 === undefined) v6 = address;
    }
  }
  return v4 ?? v6;
}

/** Options of {@link resolveMdnsName}. */
export interface MdnsResolveOptions {
  /** Give up after this long (default 1500 ms). */
  timeoutMs?: number;
  /** Counts unused answer records by reason. */
  drops?: Record<MdnsDropReason, number>;
  /** Where to send the query (default {@link MDNS_TARGETS}). */
  targets?: readonly MdnsTarget[];
}

/**
 * Sends one mDNS query per target (IPv4 and IPv6 groups) and resolves with the first usable
 * address of a response, or undefined after the timeout or once every target's socket failed
 * (an IPv6-less host refuses the IPv6 group at once).
 */
export function resolveMdnsName(name: string, options: MdnsResolveOptions | number = {}): Promise<string | undefined> {
  const opts = typeof options === 'number' ? { timeoutMs: options } : options;
  const targets = opts.targets ?? MDNS_TARGETS;
  return new Promise((resolve) => {
    let query: Buffer;
    try {
      query = encodeMdnsQuery(name);
    } catch {
      resolve(undefined);
      return;
    }
    const sockets: Socket[] = [];
    let failed = 0;
    let done = false;
    const finish = (address: string | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const s of sockets) {
        try {
          s.close();
        } catch {
          // already closed after an error
        }
      }
      resolve(address);
    };
    const timer = setTimeout(() => finish(undefined), opts.timeoutMs ?? 1500);
    for (const target of targets) {
      let socket: Socket;
      let dead = false;
      const fail = (): void => {
        if (dead) return;
        dead = true;
        if (++failed === targets.length) finish(undefined);
      };
      try {
        socket = createSocket({ type: target.type, reuseAddr: true });
      } catch {
        fail();
        continue;
      }
      sockets.push(socket);
      socket.on('error', fail);
      socket.on('message', (msg) => {
        if (done) return;
        const a = parseMdnsAnswer(msg, name, opts.drops);
        if (a) finish(a);
      });
      socket.bind(0, () => {
        if (done) return;
        try {
          socket.send(query, target.port, target.address, (err) => err && fail());
        } catch {
          fail();
        }
      });
    }
    if (targets.length === 0) finish(undefined);
  });
}
