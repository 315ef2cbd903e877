// A libwebrtc answerer (@roamhq/wrtc) for peer-stats-wrtc.test.ts, in a child process (the addon
// can crash at process exit). Reads one JSON line {offer}, replies {answer}; then waits until
// connected and replies with its transport and certificate stats entries.
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

const require = createRequire(import.meta.url);
const { RTCPeerConnection } = require('@roamhq/wrtc');
const reply = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let pc;
async function answer(sdp) {
  pc = new RTCPeerConnection({ iceServers: [] });
  await pc.setRemoteDescription({ type: 'offer', sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  const deadline = Date.now() + 3000;
  while (pc.iceGatheringState !== 'complete' && Date.now() < deadline) await sleep(20);
  return { sdp: pc.localDescription.sdp };
}

async function stats() {
  const deadline = Date.now() + 10000;
  while (pc.connectionState !== 'connected' && Date.now() < deadline) await sleep(20);
  const out = { connectionState: pc.connectionState, transport: [], certificate: [] };
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'transport' || s.type === 'certificate') out[s.type].push({ ...s });
  });
  return out;
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const msg = JSON.parse(line);
  const run = msg.cmd === 'answer' ? answer(msg.sdp) : msg.cmd === 'stats' ? stats() : Promise.resolve({ error: `unknown ${msg.cmd}` });
  run.then(reply, (e) => reply({ error: String(e?.stack ?? e) }));
});
