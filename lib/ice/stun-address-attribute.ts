// MAPPED-ADDRESS and the XOR-*-ADDRESS attribute values (RFC 8489 §14.1-14.2; the same layout
// serves XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS, RFC 8656 §18.3, §18.5).
import { STUN_MAGIC_COOKIE } from './stun-constants.js';
import { bytesToIp, ipToBytes, type TransportAddress } from './transport-address.js';

const COOKIE_BYTES = Buffer.from([0x21, 0x12, 0xa4, 0x42]);

/** Decodes a (XOR-)address value; undefined when malformed (bad family or length). */
export function decodeAddressValue(value: Uint8Array, xor: boolean, transactionId: Uint8Array): TransportAddress | undefined {
  if (value.length < 4) return undefined;
  const family = value[1];
  const len = family === 0x01 ? 4 : family === 0x02 ? 16 : 0;
  if (len === 0 || value.length !== 4 + len) return undefined;
  let port = (value[2]! << 8) | value[3]!;
  const ip = Buffer.from(value.subarray(4, 4 + len));
  if (xor) {
    port ^= STUN_MAGIC_COOKIE >>> 16;
    for (let i = 0; i < len; i++) ip[i]! ^= i < 4 ? COOKIE_BYTES[i]! : transactionId[i - 4]!;
  }
  return { address: bytesToIp(ip), port };
}

/** Encodes a transport address as a (XOR-)address value; undefined when it is not an IP literal. */
export function encodeAddressValue(addr: TransportAddress, xor: boolean, transactionId: Uint8Array): Buffer | undefined {
  const ip = ipToBytes(addr.address);
  if (!ip) return undefined;
  const out = Buffer.alloc(4 + ip.length);
  out[1] = ip.length === 4 ? 0x01 : 0x02;
  out.writeUInt16BE(xor ? addr.port ^ (STUN_MAGIC_COOKIE >>> 16) : addr.port, 2);
  for (let i = 0; i < ip.length; i++) {
    out[4 + i] = xor ? ip[i]! ^ (i < 4 ? COOKIE_BYTES[i]! : transactionId[i - 4]!) : ip[i]!;
  }
  return out;
}
