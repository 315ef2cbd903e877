// Transport addresses (IP + port) and the binary IPv4/IPv6 forms STUN address attributes carry
// (RFC 8489 §14.1-14.2; IPv6 text form per RFC 5952 so that equal addresses compare equal).
import { isIPv4, isIPv6 } from 'node:net';

/** An IP address and a UDP/TCP port. `address` is the canonical text form. */
export interface TransportAddress {
  readonly address: string;
  readonly port: number;
}

/**
 * Node's isIPv6, asked only of text with a colon (every IPv6 literal has one): its expression is
 * long, and every candidate and address of a connection's setup goes through here.
 */
function isIPv6Literal(address: string): boolean {
  return address.includes(':') && isIPv6(address);
}

/** The IP family of a text address: 4, 6, or 0 when it is not an IP literal. */
export function ipFamily(address: string): 0 | 4 | 6 {
  if (isIPv4(address)) return 4;
  if (isIPv6Literal(address)) return 6;
  return 0;
}

/** A map key for a transport address (`1.2.3.4:5` / `[::1]:5`). */
export function addressKey(a: TransportAddress): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** True when both transport addresses are the same (canonical text compared). */
export function sameAddress(a: TransportAddress, b: TransportAddress): boolean {
  return a.port === b.port && a.address === b.address;
}

/**
 * Parses a dotted-quad IPv4 literal (the forms `isIPv4` accepts: no leading zeros) into a 32-bit
 * number without allocating; -1 when it is not one.
 */
export function ipv4Number(address: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3 && !(digits > 0 && part === 0)) {
      part = part * 10 + (c - 0x30);
      if (part > 255) return -1;
      digits++;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

/** Parses an IPv4 or IPv6 literal into 4 or 16 bytes; undefined when it is not one. */
export function ipToBytes(address: string): Buffer | undefined {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  if (!isIPv6Literal(address)) return undefined;
  let text = address;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const out = Buffer.alloc(16);
  // An embedded dotted quad (::ffff:1.2.3.4) becomes the last two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  let groupsText = text;
  let v4: number[] | undefined;
  if (tail.includes('.')) {
    v4 = tail.split('.').map(Number);
    groupsText = text.slice(0, lastColon + 1) + '0:0';
  }
  const [head, rest] = groupsText.split('::') as [string, string | undefined];
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups =
    rest === undefined
      ? headGroups
      : [...headGroups, ...new Array<string>(8 - headGroups.length - restGroups.length).fill('0'), ...restGroups];
  for (let i = 0; i < 8; i++) out.writeUInt16BE(parseInt(groups[i] ?? '0', 16), i * 2);
  if (v4) for (let i = 0; i < 4; i++) out[12 + i] = v4[i]!;
  return out;
}

/** Formats 4 or 16 address bytes as canonical text (RFC 5952 for IPv6). */
export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[i * 2]! << 8) | bytes[i * 2 + 1]!);
  // RFC 5952 §4.2: compress the longest run (>= 2) of zero groups, the first one on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Canonical text of an IP literal (so `::0001` and `::1` compare equal); other text unchanged. */
export function canonicalIp(address: string): string {
  const b = isIPv6Literal(address) ? ipToBytes(address) : undefined;
  return b ? bytesToIp(b) : address;
}
