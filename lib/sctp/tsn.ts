// Serial number arithmetic for 32-bit TSNs and 16-bit SSNs (RFC 9260 section 1.6, RFC 1982).

/** True when TSN `a` comes before `b` (mod 2^32). */
export function tsnLt(a: number, b: number): boolean {
  return a !== b && ((b - a) >>> 0) < 0x8000_0000;
}

/** True when TSN `a` comes before or equals `b` (mod 2^32). */
export function tsnLte(a: number, b: number): boolean {
  return a === b || ((b - a) >>> 0) < 0x8000_0000;
}

/** `a + n` modulo 2^32. */
export function tsnAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** Distance from `a` forward to `b` (mod 2^32). */
export function tsnDiff(b: number, a: number): number {
  return (b - a) >>> 0;
}

/** True when 16-bit serial `a` comes before `b` (SSN comparison, RFC 9260 section 6.5). */
export function ssnLt(a: number, b: number): boolean {
  return a !== b && ((b - a) & 0xffff) < 0x8000;
}

/** True when 16-bit serial `a` comes before or equals `b`. */
export function ssnLte(a: number, b: number): boolean {
  return a === b || ssnLt(a, b);
}
