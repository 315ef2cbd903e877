// mDNS query encoding, answer parsing and the one-shot resolver for `.local` candidates
// (RFC 6762, RFC 1035 §4.1, RFC 3596): every unused answer record counted by reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import fc from 'fast-check';
import { encodeMdnsQuery, newMdnsDrops, parseMdnsAnswer, resolveMdnsName, type MdnsTarget } from '../../../lib/transport/ice-mdns.js';

const NAME = '0b1c9a5e-1111-4c2e-9d55-0123456789ab.local';

function qname(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const l of name.split('.')) parts.push(Buffer.from([l.length]), Buffer.from(l));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

interface Rr { name?: string; type: number; rdata: number[] }

/** A response echoing our question, with the given answer records (owner compressed to the question's name when omitted). */
function response(records: Rr[], id = 0): Buffer {
  const q = encodeMdnsQuery(NAME).subarray(12);
  const header = Buffer.from([id >> 8, id & 0xff, 0x84, 0, 0, 2, 0, records.length, 0, 0, 0, 0]);
  const rrs = records.map((r) => Buffer.concat([
    r.name === undefined ? Buffer.from([0xc0, 12]) : qname(r.name),
    Buffer.from([r.type >> 8, r.type & 0xff, 0x80, 1, 0, 0, 0, 120, r.rdata.length >> 8, r.rdata.length & 0xff]),
    Buffer.from(r.rdata),
  ]));
  return Buffer.concat([header, q, ...rrs]);
}

const A = (ip: number[], name?: string): Rr => ({ name, type: 1, rdata: ip });
const V6 = (hex: string): number[] => [...Buffer.from(hex, 'hex')];

function answer(name: string, ip: number[], compressed: boolean): Buffer {
  return response([A(ip, compressed ? undefined : name)]);
}

test('query asks for the A and the AAAA record, both with the unicast-response bit', () => {
  const q = encodeMdnsQuery(NAME);
  assert.equal(q.readUInt16BE(4), 2);
  assert.equal(q[12], 36);
  const qlen = NAME.length + 2;
  assert.deepEqual([...q.subarray(12 + qlen, 12 + qlen + 4)], [0, 1, 0x80, 1]);
  assert.deepEqual([...q.subarray(-4)], [0, 28, 0x80, 1]);
});

test('answers with plain and compressed owner names resolve; other names do not', () => {
  assert.equal(parseMdnsAnswer(answer(NAME, [192, 168, 1, 20], false), NAME), '192.168.1.20');
  assert.equal(parseMdnsAnswer(answer(NAME, [10, 0, 0, 1], true), NAME.toUpperCase()), '10.0.0.1');
  assert.equal(parseMdnsAnswer(answer('other.local', [10, 0, 0, 1], false), NAME), undefined);
  assert.equal(parseMdnsAnswer(encodeMdnsQuery(NAME), NAME), undefined, 'a query is not an answer');
});

test('AAAA answers resolve (text per RFC 5952); an A record wins over an AAAA of the same response', () => {
  assert.equal(parseMdnsAnswer(response([{ type: 28, rdata: V6('20010db8000000000000000000000005') }]), NAME), '2001:db8::5');
  assert.equal(parseMdnsAnswer(response([{ type: 28, rdata: V6('20010db8000100020003000400050006') }]), NAME), '2001:db8:1:2:3:4:5:6');
  assert.equal(parseMdnsAnswer(response([{ type: 28, rdata: V6('20010db8000000000000000000000005') }, A([10, 1, 2, 3])]), NAME), '10.1.2.3');
});

test('every unused answer record is counted by reason', () => {
  const cases: [string, Rr[], string][] = [
    ['malformed', [{ type: 1, rdata: [10, 0, 0] }], 'short A rdata'],
    ['malformed', [{ type: 28, rdata: [1, 2, 3, 4] }], 'short AAAA rdata'],
    ['name-mismatch', [A([10, 0, 0, 1], 'other.local')], 'another name'],
    ['cname', [{ type: 5, rdata: [...qname('host.local')] }], 'a CNAME'],
    ['other-type', [{ type: 16, rdata: [0] }], 'a TXT record'],
    ['unusable-address', [A([127, 0, 0, 1])], 'loopback'],
    ['unusable-address', [A([0, 0, 0, 0])], 'unspecified'],
    ['unusable-address', [A([224, 0, 0, 251])], 'multicast'],
    ['unusable-address', [A([255, 255, 255, 255])], 'broadcast'],
    ['unusable-address', [{ type: 28, rdata: V6('00000000000000000000000000000001') }], '::1'],
    ['unusable-address', [{ type: 28, rdata: V6('00000000000000000000000000000000') }], '::'],
    ['unusable-address', [{ type: 28, rdata: V6('ff0200000000000000000000000000fb') }], 'IPv6 multicast'],
    ['unusable-address', [{ type: 28, rdata: V6('fe800000000000000000000000000001') }], 'IPv6 link-local'],
    ['unusable-address', [{ type: 28, rdata: V6('00000000000000000000ffff7f000001') }], 'mapped loopback'],
  ];
  for (const [reason, records, what] of cases) {
    const drops = newMdnsDrops();
    assert.equal(parseMdnsAnswer(response(records), NAME, drops), undefined, what);
    const expected = { ...newMdnsDrops(), [reason]: 1 };
    assert.deepEqual(drops, expected, what);
  }
  // NSEC (the responder's "no such record" hint) is not counted; the good record after bad ones is used.
  const drops = newMdnsDrops();
  const mixed = response([A([127, 0, 0, 1]), { type: 47, rdata: [0xc0, 12, 0, 1, 0x40] }, { type: 5, rdata: [0] }, A([10, 0, 0, 9], 'x.local'), A([192, 168, 7, 7])]);
  assert.equal(parseMdnsAnswer(mixed, NAME, drops), '192.168.7.7');
  assert.deepEqual(drops, { ...newMdnsDrops(), 'unusable-address': 1, cname: 1, 'name-mismatch': 1 });
  // A record cut short counts once as malformed.
  const full = response([A([10, 0, 0, 1])]);
  const cut = newMdnsDrops();
  assert.equal(parseMdnsAnswer(full.subarray(0, full.length - 2), NAME, cut), undefined);
  assert.equal(cut.malformed, 1);
});

test('truncated, looping and random responses never throw', () => {
  const full = answer(NAME, [1, 2, 3, 4], true);
  for (let i = 0; i < full.length; i++) assert.equal(parseMdnsAnswer(full.subarray(0, i), NAME, newMdnsDrops()), undefined);
  const loop = Buffer.from(full);
  loop[12] = 0xc0;
  loop[13] = 12;
  assert.equal(parseMdnsAnswer(loop, NAME), undefined);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
    parseMdnsAnswer(Buffer.from(b), NAME, newMdnsDrops());
  }), { numRuns: 2000 });
});

/** A responder on loopback that answers each query (unicast, to its source) with `reply(query)`. */
async function responder(type: 'udp4' | 'udp6', reply: (q: Buffer) => Buffer[]): Promise<{ target: MdnsTarget; queries: Buffer[]; close(): void }> {
  const s = createSocket(type);
  const queries: Buffer[] = [];
  s.on('message', (q, from) => {
    queries.push(q);
    for (const r of reply(q)) s.send(r, from.port, from.address);
  });
  await new Promise<void>((res) => s.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', res));
  return { target: { type, address: type === 'udp4' ? '127.0.0.1' : '::1', port: s.address().port }, queries, close: () => s.close() };
}

test('resolver over loopback: unusable answers are counted and skipped, the usable AAAA of the IPv6 path answers', { timeout: 20_000 }, async () => {
  const v4 = await responder('udp4', () => [response([A([127, 0, 0, 1])]), response([{ type: 1, rdata: [1, 2] }])]);
  const v6 = await responder('udp6', () => [response([{ type: 28, rdata: V6('20010db8000000000000000000000042') }])]);
  try {
    const drops = newMdnsDrops();
    const t0 = Date.now();
    // A timeout far above an answer's round trip on loopback, so that a loaded machine's stall of a
    // few seconds still tells "answered" from "waited for the timeout".
    const got = await resolveMdnsName(NAME, { drops, targets: [v4.target, v6.target], timeoutMs: 12_000 });
    assert.equal(got, '2001:db8::42');
    assert.ok(Date.now() - t0 < 9000, 'answered, not timed out');
    assert.equal(v4.queries.length, 1);
    assert.equal(v6.queries.length, 1);
    assert.equal(v6.queries[0]!.readUInt16BE(4), 2, 'A and AAAA asked in one query');
    // The v4 answers may or may not have been read before the v6 one resolved the lookup.
    assert.ok(drops['unusable-address'] <= 1 && drops.malformed <= 1);
  } finally {
    v4.close();
    v6.close();
  }
});

test('resolver over loopback: a name answered only with unusable records stays unresolved at the timeout, each record counted', { timeout: 20_000 }, async () => {
  const v4 = await responder('udp4', () => [response([A([127, 0, 0, 1]), { type: 5, rdata: [...qname('h.local')] }, A([10, 0, 0, 1], 'other.local')])]);
  try {
    const drops = newMdnsDrops();
    const t0 = Date.now();
    // The records are counted as they are read; the timeout is far above the answer's round trip on
    // loopback, so a loaded machine's stall does not end the lookup before the answer is read.
    assert.equal(await resolveMdnsName(NAME, { drops, targets: [v4.target], timeoutMs: 2500 }), undefined);
    assert.ok(Date.now() - t0 >= 2400);
    assert.deepEqual(drops, { ...newMdnsDrops(), 'unusable-address': 1, cname: 1, 'name-mismatch': 1 });
  } finally {
    v4.close();
  }
});

test('resolver: a target whose socket fails does not wait for the timeout when it was the only one', { timeout: 20_000 }, async () => {
  const t0 = Date.now();
  // Port 0 is not a valid destination: the send fails at once (the timeout is far above that, so a
  // loaded machine's stall of a few seconds does not look like waiting for it).
  assert.equal(await resolveMdnsName(NAME, { targets: [{ type: 'udp4', address: '127.0.0.1', port: 0 }], timeoutMs: 12_000 }), undefined);
  assert.ok(Date.now() - t0 < 9000);
});
