// Packaging check of every export path in the installed package's "exports" (docs/release.md "One
// build, two entry kinds"): `import` and `require` of each give the same names and the very same
// values (one module instance, so one copy of every class: `instanceof` holds across the two, and
// an RTP packet made by the /media entry is an RtpPacket of the main one), the ESM default export is
// the CommonJS module, the command line answers --help, and a router worker thread (the worker
// pool's separate script file) starts and stops. Prints one JSON line; exit 0 only when all hold.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const name = 'pure-webrtc-transport';
const pkgDir = dirname(require.resolve(`${name}/package.json`));
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const problems = [];
const check = (ok, what) => {
  if (!ok) problems.push(what);
};

const entries = [];
for (const subpath of Object.keys(pkg.exports)) {
  if (subpath === './package.json') continue;
  const specifier = subpath === '.' ? name : `${name}/${subpath.slice(2)}`;
  const esm = await import(specifier);
  const cjs = require(specifier);
  const esmNames = Object.keys(esm).filter((k) => k !== 'default').sort();
  const cjsNames = Object.keys(cjs).sort();
  check(esmNames.length > 0, `${specifier}: import gives no names`);
  check(JSON.stringify(esmNames) === JSON.stringify(cjsNames),
    `${specifier}: import and require name different exports (only import: ${esmNames.filter((n) => !cjsNames.includes(n)).join(', ') || '-'}; only require: ${cjsNames.filter((n) => !esmNames.includes(n)).join(', ') || '-'})`);
  const differ = cjsNames.filter((n) => esm[n] !== cjs[n]);
  check(differ.length === 0, `${specifier}: import and require give different values for ${differ.join(', ')}`);
  check(esm.default === cjs, `${specifier}: the ESM default export is not the CommonJS module`);
  entries.push({ specifier, names: cjsNames.length, import: import.meta.resolve(specifier), require: require.resolve(specifier) });
}

// Class identity across the two kinds of entry, and across the two entry points.
const esm = await import(name);
const cjs = require(name);
const media = require(`${name}/media`);
const pc = new esm.RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
check(pc instanceof cjs.RTCPeerConnection, 'an imported RTCPeerConnection is not an instance of the required class');
pc.close();
const packets = new (await import(`${name}/media`)).RtpPacketizer(new media.OpusPacketizer()).packetize(new Uint8Array([0x78, 1]), 0);
check(packets.length > 0 && packets.every((p) => p instanceof cjs.RtpPacket && p instanceof esm.RtpPacket), 'the /media packetizer\'s packets are not RtpPacket instances of the main entry');
let typed = false;
try {
  pc.createDataChannel('late');
} catch (err) {
  typed = err.name === 'InvalidStateError' && err instanceof esm.PwtError && err instanceof cjs.PwtError;
}
check(typed, 'an error thrown by the package (closed connection) is not a PwtError of both import and require');

// The command line (package.json "bin"), as npm links it.
const bin = join(pkgDir, pkg.bin[name]);
const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', timeout: 60_000 });
check(help.status === 0 && /whip-client/.test(help.stdout), `${name} --help: exit ${help.status}\n${help.stderr}`);

// The worker pool starts its worker threads from their own file beside the pool's module.
const pool = await esm.RouterWorkerPool.create({ workers: 1, address: '127.0.0.1' });
const room = await pool.createRoom();
check(room instanceof cjs.WorkerRoom, 'a worker pool room is not a WorkerRoom');
const stats = await pool.stats();
check(stats.length === 1 && !('failed' in stats[0]), `worker pool stats: ${JSON.stringify(stats)}`);
await pool.close();

console.log(JSON.stringify({ ok: problems.length === 0, problems, entries, file: fileURLToPath(import.meta.url) }));
process.exit(problems.length === 0 ? 0 : 1);
