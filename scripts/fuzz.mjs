// Longer fuzz runs than `npm test` does. TypeScript targets run test/fuzz/run-fuzz.ts (seeded
// mutations, hang watchdog, minimized findings written to the corpus). Native targets build with
// clang's libFuzzer + ASan/UBSan when available and run over the committed corpus.
// Usage: node scripts/fuzz.mjs <target|all|ts|native> [--seconds N] [--seed S]
//        node scripts/fuzz.mjs --list
//        node scripts/fuzz.mjs --make-dtls-seeds   (rewrites the DTLS seed corpora)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { walkFiles } from './walk-files.mjs';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const corpusRoot = join(root, 'test', 'fuzz', 'corpus');
const TS_TARGETS = ['rtp-packet', 'rtcp', 'stun', 'channel-data', 'stun-stream-framer', 'sdp', 'sctp-packet', 'dcep',
  'media-depacketizers', 'ivf', 'ogg-opus', 'annex-b'];
// Native target name -> source file in test/fuzz/native.
const NATIVE_TARGETS = {
  'srtp-rtp': 'srtp_rtp_fuzz.cpp',
  'srtp-rtcp': 'srtp_rtcp_fuzz.cpp',
  'dtls-server': 'dtls_server_fuzz.cpp',
  'dtls-client': 'dtls_client_fuzz.cpp',
  'dtls-record': 'dtls_record_fuzz.cpp',
  'forward-rewrite': 'forward_rewrite_fuzz.cpp',
  'forward-plain': 'forward_plain_fuzz.cpp',
  'forward-layer': 'forward_layer_fuzz.cpp',
  'forward-nack': 'forward_nack_fuzz.cpp',
  'forward-rr': 'forward_rr_fuzz.cpp',
  'forward-rtcp-compound': 'forward_rtcp_compound_fuzz.cpp',
  'stun-username-peek': 'stun_username_peek_fuzz.cpp',
  'stun-consent': 'stun_consent_fuzz.cpp',
  'udp-turn-channel': 'udp_turn_channel_fuzz.cpp',
  'tcp-frame': 'tcp_frame_fuzz.cpp',
};
const CLANG_HELP = 'libFuzzer needs clang with its runtime: on Debian/Ubuntu `sudo apt-get install clang libclang-rt-14-dev` ' +
  '(or set CXX_FUZZ to a clang++ that supports -fsanitize=fuzzer). Until then `npm test` replays the native corpora ' +
  'with deterministic mutations under ASan/UBSan (test/native/fuzz_*_replay_test.cpp).';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const positional = args.filter((a, i) => !a.startsWith('--') && !['--seconds', '--seed'].includes(args[i - 1]));
const seconds = Number(opt('--seconds', '60'));
const seed = Number(opt('--seed', String(Date.now() % 0x7fffffff)));

function run(cmd, argv, extra = {}) {
  return spawnSync(cmd, argv, { cwd: root, stdio: 'inherit', ...extra }).status ?? 1;
}

function nativeSources() {
  return walkFiles(join(root, 'native'), (p) => p.endsWith('.cpp'));
}

function findClang() {
  const candidates = [process.env.CXX_FUZZ, 'clang++', 'clang++-14', 'clang++-15', 'clang++-16'].filter(Boolean);
  const probe = join(root, 'build-native', 'libfuzzer', 'probe.cpp');
  mkdirSync(dirname(probe), { recursive: true });
  writeFileSync(probe, 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n');
  for (const cxx of candidates) {
    const r = spawnSync(cxx, ['-fsanitize=fuzzer', probe, '-o', probe.replace(/\.cpp$/, '')], { encoding: 'utf8' });
    if (r.status === 0) return cxx;
  }
  return undefined;
}

function runNative(name) {
  const cxx = findClang();
  if (!cxx) {
    console.log(`${name}: no clang with libFuzzer found. ${CLANG_HELP}`);
    return 2;
  }
  const outDir = join(root, 'build-native', 'libfuzzer');
  const bin = join(outDir, name);
  console.log(`${name}: building with ${cxx} -fsanitize=fuzzer,address,undefined`);
  const compile = () => run(cxx, ['-std=c++17', '-O1', '-g', '-fno-omit-frame-pointer', '-fsanitize=fuzzer,address,undefined',
    '-fno-sanitize-recover=all', `-I${root}`, join(root, 'test', 'fuzz', 'native', NATIVE_TARGETS[name]), ...nativeSources(),
    '-lssl', '-lcrypto', '-o', bin]);
  // One retry: on a loaded machine the compiler has been seen to fail spuriously.
  const build = compile() === 0 ? 0 : compile();
  if (build !== 0) return build;
  // New inputs go to a scratch corpus; the committed one stays small and read-only here.
  const work = join(outDir, `${name}-corpus`);
  const artifacts = join(outDir, `${name}-artifacts`);
  mkdirSync(work, { recursive: true });
  mkdirSync(artifacts, { recursive: true });
  const before = new Set(readdirSync(artifacts));
  const status = run(bin, [`-max_total_time=${seconds}`, `-seed=${seed}`, '-timeout=10', '-rss_limit_mb=1024',
    `-artifact_prefix=${artifacts}/`, '-print_final_stats=1', work, join(corpusRoot, name)],
  { env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1', UBSAN_OPTIONS: 'print_stacktrace=1' } });
  const fresh = readdirSync(artifacts).filter((f) => !before.has(f));
  for (const f of fresh) {
    const dest = join(corpusRoot, name, `finding-${basename(f)}`);
    copyFileSync(join(artifacts, f), dest);
    console.log(`FINDING ${name}: ${dest}\n  input ${readFileSync(dest).toString('hex')}`);
  }
  return fresh.length > 0 || status !== 0 ? 1 : 0;
}

function runTs(name) {
  return run(process.execPath, ['--import', 'tsx', join('test', 'fuzz', 'run-fuzz.ts'), name, String(seconds), String(seed)]);
}

function makeDtlsSeeds() {
  const build = join(root, 'build-native', 'plain');
  if (run('cmake', ['-S', '.', '-B', build, '-DPWT_SANITIZE=OFF']) !== 0 || run('cmake', ['--build', build, '-j2', '--target', 'pwt_core']) !== 0) return 1;
  const bin = join(build, 'make_dtls_seeds');
  const cxx = process.env.CXX ?? 'g++';
  if (run(cxx, ['-std=c++17', '-O1', `-I${root}`, join(root, 'test', 'fuzz', 'native', 'make_dtls_seeds.cpp'),
    join(build, 'libpwt_core.a'), '-lssl', '-lcrypto', '-o', bin]) !== 0) return 1;
  for (const d of ['dtls-server', 'dtls-client']) mkdirSync(join(corpusRoot, d), { recursive: true });
  return run(bin, [corpusRoot]);
}

if (args.includes('--list') || positional.length === 0) {
  console.log(`TypeScript targets: ${TS_TARGETS.join(', ')}\nNative targets: ${Object.keys(NATIVE_TARGETS).join(', ')}\n` +
    'usage: node scripts/fuzz.mjs <target|all|ts|native> [--seconds N] [--seed S] | --make-dtls-seeds');
  process.exit(positional.length === 0 && !args.includes('--list') && !args.includes('--make-dtls-seeds') ? 2 : 0);
}
if (args.includes('--make-dtls-seeds')) process.exit(makeDtlsSeeds());

const wanted = positional[0] === 'all' ? [...TS_TARGETS, ...Object.keys(NATIVE_TARGETS)]
  : positional[0] === 'ts' ? TS_TARGETS
    : positional[0] === 'native' ? Object.keys(NATIVE_TARGETS) : positional;
let failed = 0;
for (const name of wanted) {
  let status;
  if (TS_TARGETS.includes(name)) status = runTs(name);
  else if (name in NATIVE_TARGETS) status = runNative(name);
  else {
    console.error(`unknown target ${name}`);
    status = 2;
  }
  if (status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
