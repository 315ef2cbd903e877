// Floods at a live session: 100,000 datagrams from a stranger and 100,000 from the peer's own
// (forged) address, mixed over every RFC 7983 range. The session must stay connected, traffic must
// flow afterwards (data-channel messages never lost: SCTP retransmits what the kernel dropped),
// drops must be counted, and memory and handles must stay bounded.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RawUdp, type Endpoint } from './raw-udp.js';
import { counters, dropsOnly, FaultWatch, HostileSession, pause, runAttack } from './session.js';

/** The flood size the requirement names. */
const FLOOD = 100_000;
/** Heap growth allowed after a flood, once garbage is collected (nothing per datagram may be kept). */
const HEAP_BOUND = 16 * 1024 * 1024;
/** Resident-set growth allowed (native pools are preallocated; this is slack for the allocator). */
const RSS_BOUND = 96 * 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let s: HostileSession | undefined;
let watch: FaultWatch;
let raw: RawUdp | undefined;
let skip: string | false = false;

before(async () => {
  watch = new FaultWatch();
  const r = await RawUdp.open();
  if (typeof r === 'string') skip = `raw sockets unavailable (${r}); run as root with python3`;
  else raw = r;
});

after(() => {
  raw?.close();
  s?.close();
  watch?.dispose();
});

async function session(): Promise<HostileSession> {
  if (!s || !s.healthy) {
    s?.close();
    s = await HostileSession.open();
  }
  return s;
}

async function memory(): Promise<{ heap: number; rss: number; fds: Map<string, string>; resources: Record<string, number> }> {
  for (let i = 0; i < 3; i++) {
    gc();
    await pause(10);
  }
  const resources: Record<string, number> = {};
  // Timers come and go with the traffic pump and the protocol timers; handles must not grow.
  for (const r of process.getActiveResourcesInfo()) if (r !== 'Timeout' && r !== 'Immediate') resources[r] = (resources[r] ?? 0) + 1;
  const m = process.memoryUsage();
  // Native sockets poll through libuv without a JS handle: compare the process's descriptors too.
  return { heap: m.heapUsed, rss: m.rss, fds: descriptors(), resources };
}

/** The process's open descriptors, number → what it points at ('socket:[123]', 'pipe:[45]', a path). */
function descriptors(): Map<string, string> {
  const out = new Map<string, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      out.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // Closed between the listing and the readlink (the listing's own descriptor, or a transient one).
    }
  }
  return out;
}

/** Descriptors open now that were not in `before` (by number and target): what a leak would add. */
function newDescriptors(before: Map<string, string>, now: Map<string, string>): string[] {
  const added: string[] = [];
  for (const [fd, target] of now) if (before.get(fd) !== target) added.push(`${fd} → ${target}`);
  return added;
}

/**
 * Waits (bounded) for descriptors opened since `before` to go: a libuv threadpool operation, a child's
 * pipe or the protocol timers of a late-running session may hold one for a moment; a leak stays.
 */
async function descriptorsAdded(before: Map<string, string>): Promise<string[]> {
  const deadline = performance.now() + 2_000;
  let added = newDescriptors(before, descriptors());
  while (added.length > 0 && performance.now() < deadline) {
    await pause(100);
    added = newDescriptors(before, descriptors());
  }
  return added;
}

function sum(c: Record<string, number>): number {
  return Object.values(c).reduce((a, b) => a + b, 0);
}

for (const kind of ['stranger', 'peer address'] as const) {
  test(`flood of ${FLOOD} datagrams from ${kind === 'stranger' ? 'a stranger' : "the peer's own address"}: connected, flowing, counted, bounded`, { timeout: 90_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const sess = await session();
    const from: Endpoint = kind === 'stranger' ? { address: '127.0.0.1', port: 40_999 } : sess.addr1;
    const before = await memory();
    const received0 = (await counters(sess.pc2)).transport.packetsReceived as number;
    let sent = 0;
    const r = await runAttack(sess, watch, `flood from ${kind}`, async () => {
      sent = await raw!.flood(from, sess.addr2, { count: FLOOD, seed: kind === 'stranger' ? 7 : 8, minLen: 1, maxLen: 200, firstBytes: [0, 1, 3, 22, 23, 50, 100, 128, 144, 191, 200, 255], burst: 256 });
    }, { lossAllowed: true });
    const afterFlood = await memory();
    const fdsAdded = await descriptorsAdded(before.fds);
    const received = ((await counters(sess.pc2)).transport.packetsReceived as number) - received0;
    // srtp.* details transport.srtpRejected and dtls.clientHellos is not a drop: count each datagram once.
    const drops = sum(Object.fromEntries(Object.entries(dropsOnly(r.moved2)).filter(([k]) => !k.startsWith('srtp.') && k !== 'dtls.clientHellos')));
    console.log(`RESULT flood | ${kind} | sent ${sent} | socket received ${received} (incl. traffic) | drops counted ${drops} ${JSON.stringify(dropsOnly(r.moved2))} | media lost during flood ${JSON.stringify(r.flow.lostDuringAttack)} | heap ${((afterFlood.heap - before.heap) / 1048576).toFixed(1)} MiB | rss ${((afterFlood.rss - before.rss) / 1048576).toFixed(1)} MiB | fds ${before.fds.size}→${afterFlood.fds.size}, new after settling ${JSON.stringify(fdsAdded)} | resources ${JSON.stringify(afterFlood.resources)}`);
    assert.equal(sent, FLOOD);
    assert.ok(drops >= Math.min(FLOOD, received) / 2, `flood from ${kind}: only ${drops} drops counted for ${received} datagrams received`);
    assert.ok(drops <= FLOOD, `flood from ${kind}: ${drops} drops counted for ${FLOOD} datagrams sent`);
    assert.ok(afterFlood.heap - before.heap < HEAP_BOUND, `heap grew by ${afterFlood.heap - before.heap} bytes`);
    assert.ok(afterFlood.rss - before.rss < RSS_BOUND, `rss grew by ${afterFlood.rss - before.rss} bytes`);
    assert.deepEqual(afterFlood.resources, before.resources, 'active handles changed');
    assert.deepEqual(fdsAdded, [], `descriptors opened during the flood and still open: ${JSON.stringify(fdsAdded)}`);
  });
}
