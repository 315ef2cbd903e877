// A libwebrtc peer (@roamhq/wrtc) run in a child process by wrtc.test.ts (the addon can crash at
// process exit). Commands are JSON lines on stdin, replies JSON lines on stdout:
//   {cmd:'client', url}  WHIP-publishes synthetic audio (RTCAudioSource) + video (RTCVideoSource)
//                        and a data channel to `url`, checks echoed media via getStats and the
//                        100 test messages; replies {ok, ...}.
//   {cmd:'answer', sdp}  answers an offer, looping every track back (replaceTrack) and every
//                        message; replies {sdp}.
//   {cmd:'stats'}        replies with the answerer's inbound-rtp (and, as `videoOut`/`audioOut`,
//                        outbound-rtp) stats, its data-channel stats (`dataChannel`) and `arrivals`:
//                        each message its JS saw, in order, with its kind ('s'/'b'), size, SHA-1
//                        (to name it exactly) and ms since the first.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

const require = createRequire(import.meta.url);
const wrtc = require('@roamhq/wrtc');
const { RTCPeerConnection, nonstandard } = wrtc;
const version = require('@roamhq/wrtc/package.json').version;

const reply = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, 3000);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(t);
        resolve();
      }
    });
  });
}

async function inbound(pc) {
  const out = {};
  const report = await pc.getStats();
  report.forEach((s) => {
    if (s.type === 'inbound-rtp') out[s.kind ?? s.mediaType] = { packetsReceived: s.packetsReceived ?? 0, framesDecoded: s.framesDecoded };
    if (s.type === 'outbound-rtp') out[`${s.kind ?? s.mediaType}Out`] = { packetsSent: s.packetsSent ?? 0, nackCount: s.nackCount, retransmittedPacketsSent: s.retransmittedPacketsSent, framesEncoded: s.framesEncoded };
    if (s.type === 'data-channel') out.dataChannel = { state: s.state, messagesSent: s.messagesSent, bytesSent: s.bytesSent, messagesReceived: s.messagesReceived, bytesReceived: s.bytesReceived };
    if (s.type === 'transport') out.transport = { srtpCipher: s.srtpCipher, dtlsCipher: s.dtlsCipher };
  });
  return out;
}

function startSources(pc) {
  const audio = new nonstandard.RTCAudioSource();
  const video = new nonstandard.RTCVideoSource();
  pc.addTransceiver(audio.createTrack(), { direction: 'sendrecv' });
  pc.addTransceiver(video.createTrack(), { direction: 'sendrecv' });
  const width = 320;
  const height = 240;
  const frame = new Uint8ClampedArray(width * height * 1.5);
  const samples = new Int16Array(480);
  let n = 0;
  const timer = setInterval(() => {
    // 10 ms of a 440 Hz tone and, every third tick, a changing grey frame.
    for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (n * 480 + i)) / 48000));
    audio.onData({ samples, sampleRate: 48000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
    if (n % 3 === 0) {
      frame.fill((n * 3) & 0xff, 0, width * height);
      frame.fill(128, width * height);
      video.onFrame({ width, height, data: frame });
    }
    n++;
  }, 10);
  return () => clearInterval(timer);
}

function messageBytes(index, size) {
  const b = Buffer.allocUnsafe(size);
  for (let j = 0; j < size; j++) b[j] = 97 + ((index * 7 + j) % 26);
  return b;
}

async function client(url, plan) {
  const pc = new RTCPeerConnection({ iceServers: [] });
  const stop = startSources(pc);
  const dc = pc.createDataChannel('echo');
  dc.binaryType = 'arraybuffer';
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription.sdp });
    const answer = await res.text();
    if (res.status !== 201) return { ok: false, error: `WHIP ${res.status}: ${answer}` };
    const resource = new URL(res.headers.get('location'), url).toString();
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    const deadline = Date.now() + 15000;
    while (pc.connectionState !== 'connected' && Date.now() < deadline) await sleep(50);
    if (pc.connectionState !== 'connected') return { ok: false, error: `connection ${pc.connectionState}` };
    while (dc.readyState !== 'open' && Date.now() < deadline) await sleep(50);
    await sleep(2500);
    const first = await inbound(pc);
    await sleep(1500);
    const second = await inbound(pc);
    const sent = plan.map((m, i) => ({ text: !m.binary, bytes: messageBytes(i, m.size) }));
    let received = 0;
    let intact = 0;
    const done = new Promise((resolve) => {
      const t = setTimeout(resolve, 20000);
      dc.onmessage = (ev) => {
        const want = sent[received++];
        const ok = want.text ? typeof ev.data === 'string' && ev.data === want.bytes.toString('latin1') : typeof ev.data !== 'string' && Buffer.from(ev.data).equals(want.bytes);
        if (ok) intact++;
        if (received === sent.length) {
          clearTimeout(t);
          resolve();
        }
      };
    });
    for (const m of sent) dc.send(m.text ? m.bytes.toString('latin1') : m.bytes);
    await done;
    const del = await fetch(resource, { method: 'DELETE' });
    return { ok: true, version, offer: pc.localDescription.sdp, first, second, messages: { sent: sent.length, intact }, deleteStatus: del.status };
  } finally {
    stop();
    pc.close();
  }
}

let answerer;
/** What the answerer's JS saw arrive, in order: kind ('s'/'b'), byte length, SHA-1 of the bytes, ms since the first. */
const arrivals = [];
let firstArrival;
async function answer(sdp) {
  const pc = (answerer = new RTCPeerConnection({ iceServers: [] }));
  pc.ondatachannel = (ev) => {
    const dc = ev.channel;
    dc.binaryType = 'arraybuffer';
    dc.onmessage = (m) => {
      const bytes = typeof m.data === 'string' ? Buffer.from(m.data, 'utf8') : Buffer.from(m.data);
      firstArrival ??= performance.now();
      arrivals.push({ kind: typeof m.data === 'string' ? 's' : 'b', size: bytes.length, sha1: createHash('sha1').update(bytes).digest('hex'), ms: Math.round(performance.now() - firstArrival) });
      dc.send(m.data);
    };
  };
  await pc.setRemoteDescription({ type: 'offer', sdp });
  for (const tr of pc.getTransceivers()) {
    tr.direction = 'sendrecv';
    await tr.sender.replaceTrack(tr.receiver.track);
  }
  await pc.setLocalDescription(await pc.createAnswer());
  await gathered(pc);
  return { sdp: pc.localDescription.sdp, version };
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const msg = JSON.parse(line);
  const run = async () => {
    if (msg.cmd === 'client') return client(msg.url, msg.plan);
    if (msg.cmd === 'answer') return answer(msg.sdp);
    if (msg.cmd === 'stats') return { version, arrivals, ...(answerer ? await inbound(answerer) : {}) };
    if (msg.cmd === 'exit') {
      answerer?.close();
      process.exit(0);
    }
    return { error: `unknown command ${msg.cmd}` };
  };
  run().then(reply, (e) => reply({ ok: false, error: String(e?.stack ?? e) }));
});
