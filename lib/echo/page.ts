// The echo server's browser page, embedded as a string so that it ships inside dist/ with tsc:
// camera+microphone (or canvas+oscillator), WHIP publish (RFC 9725), echoed video and audio
// level, a data-channel round-trip meter and the server's stats for the session.
import type { PlannedMessage } from './message-plan.js';

/**
 * The page's HTML. `plan` is the data-channel test set that `window.pwtEcho.runMessageTest()`
 * sends (tests drive the page through `window.pwtEcho`).
 */
export function renderEchoPage(plan: readonly PlannedMessage[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pure-webrtc-transport echo</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;max-width:60em}
video{width:320px;height:240px;background:#111;margin-right:1em}
#level{display:inline-block;height:12px;background:#3a3;width:0;vertical-align:middle;transition:width .1s}
#levelbox{display:inline-block;width:200px;border:1px solid #888;vertical-align:middle}
pre{background:#f4f4f4;padding:.5em;max-height:20em;overflow:auto;font-size:12px}
</style></head><body>
<h1>pure-webrtc-transport echo</h1>
<p>State: <b id="state">starting</b> · source: <span id="source">-</span></p>
<div><video id="local" autoplay muted playsinline></video><video id="remote" autoplay playsinline></video></div>
<audio id="audio" autoplay></audio>
<p>Echoed audio level: <span id="levelbox"><span id="level"></span></span> <span id="levelnum"></span></p>
<p>Data-channel round trip: <b id="rtt">-</b> · messages echoed: <span id="msgs">0</span>
<button id="test">Run 100-message test</button> <span id="testresult"></span></p>
<h2>Server stats for this session</h2><pre id="server">-</pre>
<h2>Log</h2><pre id="log"></pre>
<script>
const PLAN = ${JSON.stringify(plan)};
const $ = (id) => document.getElementById(id);
const echo = window.pwtEcho = { state: 'starting', log: [], pc: null, dc: null, resource: null, source: null, rtts: [], echoed: 0 };
function log(msg) { const line = new Date().toISOString().slice(11, 23) + ' ' + msg; echo.log.push(line); $('log').textContent += line + '\\n'; }
function setState(s) { echo.state = s; $('state').textContent = s; log('state ' + s); }

async function openSource() {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
    echo.source = 'camera+microphone'; return stream;
  } catch (e) {
    log('no camera/microphone (' + e.name + '): using a canvas and an oscillator');
  }
  const canvas = document.createElement('canvas'); canvas.width = 320; canvas.height = 240;
  const g = canvas.getContext('2d'); let n = 0;
  setInterval(() => { g.fillStyle = 'hsl(' + (n * 3 % 360) + ',70%,50%)'; g.fillRect(0, 0, 320, 240);
    g.fillStyle = '#fff'; g.font = '40px sans-serif'; g.fillText(String(n++), 20, 130); }, 33);
  const ac = new AudioContext(); const osc = ac.createOscillator(); const dst = ac.createMediaStreamDestination();
  osc.frequency.value = 440; osc.connect(dst); osc.start();
  const stream = new MediaStream([...canvas.captureStream(30).getVideoTracks(), ...dst.stream.getAudioTracks()]);
  echo.source = 'canvas+oscillator'; return stream;
}

function waitGathering(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, 2000);
    pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(); } });
  });
}

function messageBytes(index, size) { const b = new Uint8Array(size); for (let j = 0; j < size; j++) b[j] = 97 + ((index * 7 + j) % 26); return b; }

echo.runMessageTest = function () {
  const dc = echo.dc; const sent = []; const pending = [];
  const decoder = new TextDecoder();
  return new Promise((resolve) => {
    let received = 0, intact = 0; const errors = [];
    const timer = setTimeout(() => finish('timeout'), 20000);
    function finish(why) { clearTimeout(timer); dc.removeEventListener('message', onMessage);
      const r = { sent: sent.length, received, intact, errors: why ? errors.concat(why) : errors };
      $('testresult').textContent = intact + '/' + sent.length + ' intact'; resolve(r); }
    function onMessage(ev) {
      if (typeof ev.data === 'string' && ev.data.startsWith('rtt:')) return;
      const i = received++; const want = sent[i];
      const got = typeof ev.data === 'string' ? ev.data : new Uint8Array(ev.data);
      let ok = false;
      if (typeof got === 'string') ok = !want.binary && got === decoder.decode(want.bytes);
      else ok = want.binary && got.length === want.bytes.length && got.every((v, k) => v === want.bytes[k]);
      if (ok) intact++; else errors.push('message ' + i + ' differs');
      if (received === sent.length) finish();
    }
    dc.addEventListener('message', onMessage);
    PLAN.forEach((m, i) => { const bytes = messageBytes(i, m.size); sent.push({ binary: m.binary, bytes });
      dc.send(m.binary ? bytes : decoder.decode(bytes)); });
  });
};

async function pollServer() {
  if (!echo.sessionId) return;
  try { const r = await fetch('/sessions/' + echo.sessionId); if (r.ok) { echo.server = await r.json(); $('server').textContent = JSON.stringify(echo.server, null, 1); } } catch {}
}

async function pollStats() {
  const stats = await echo.pc.getStats();
  stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio' && typeof s.audioLevel === 'number') {
    $('level').style.width = Math.min(100, s.audioLevel * 400) + '%'; $('levelnum').textContent = s.audioLevel.toFixed(3); } });
  if (echo.dc && echo.dc.readyState === 'open') echo.dc.send('rtt:' + performance.now());
}

async function main() {
  const stream = await openSource(); $('source').textContent = echo.source; $('local').srcObject = stream;
  const pc = echo.pc = new RTCPeerConnection();
  for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] });
  const dc = echo.dc = pc.createDataChannel('echo');
  dc.binaryType = 'arraybuffer';
  dc.addEventListener('open', () => log('data channel open'));
  dc.addEventListener('message', (ev) => { echo.echoed++; $('msgs').textContent = echo.echoed;
    if (typeof ev.data === 'string' && ev.data.startsWith('rtt:')) { const rtt = performance.now() - Number(ev.data.slice(4));
      echo.rtts.push(rtt); $('rtt').textContent = rtt.toFixed(1) + ' ms'; } });
  const remote = new MediaStream();
  pc.addEventListener('track', (ev) => { remote.addTrack(ev.track); log('echoed ' + ev.track.kind + ' track');
    $('remote').srcObject = remote; $('audio').srcObject = remote; $('remote').muted = true;
    $('audio').play().catch(() => {}); $('remote').play().catch(() => {}); });
  pc.addEventListener('connectionstatechange', () => setState(pc.connectionState));
  pc.addEventListener('iceconnectionstatechange', () => log('ice ' + pc.iceConnectionState));
  await pc.setLocalDescription(await pc.createOffer());
  await waitGathering(pc);
  const res = await fetch('/whip', { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription.sdp });
  const body = await res.text();
  if (res.status !== 201) { setState('rejected'); log('WHIP ' + res.status + ': ' + body); return; }
  echo.resource = res.headers.get('location'); echo.sessionId = echo.resource.split('/').pop();
  log('WHIP session ' + echo.resource);
  await pc.setRemoteDescription({ type: 'answer', sdp: body });
  setInterval(pollStats, 500); setInterval(pollServer, 1000);
  $('test').onclick = () => echo.runMessageTest();
  window.addEventListener('beforeunload', () => { fetch(echo.resource, { method: 'DELETE', keepalive: true }); });
}
echo.ready = main().catch((e) => { setState('error'); log(String(e && e.stack || e)); });
</script></body></html>
`;
}
