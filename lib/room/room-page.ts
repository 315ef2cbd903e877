// The room page the `sfu` command serves (docs/sfu.md "Room server"), embedded as a string so that
// it ships inside dist/ with tsc: publish camera+microphone on one connection, one recvonly
// connection per other member, each remote video with its layers and frame size, the server's stats,
// and per-video controls: a lower or higher simulcast layer, a temporal layer (VP8 L1T3, RFC 7741
// §4.2, where the browser encodes it), or automatic selection (docs/sfu.md "Automatic layer selection").

/** What the page captures and how it publishes. */
export interface RoomPageConfig {
  /** Capture size and rate asked of the camera (the page's ?width=, ?height=, ?fps= override them). */
  width: number;
  height: number;
  frameRate: number;
  /**
   * Publish VP8 simulcast, three layers (rids low, mid, high; scaleResolutionDownBy 4, 2, 1);
   * otherwise one layer. The page's ?simulcast=0/1 overrides it.
   */
  simulcast: boolean;
}

/** The page's HTML. Tests drive it through `window.pwtRoom`. */
export function renderRoomPage(config: RoomPageConfig): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pure-webrtc-transport sfu room</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em}
#remotes{display:flex;flex-wrap:wrap;gap:1em}
figure{margin:0;border:1px solid #ccc;padding:.5em}
video{width:320px;height:180px;background:#111;display:block}
figcaption{font-size:12px;margin-top:.3em}
pre{background:#f4f4f4;padding:.5em;max-height:24em;overflow:auto;font-size:12px}
</style></head><body>
<h1>pure-webrtc-transport sfu room <span id="room"></span></h1>
<p>State: <b id="state">starting</b> · member <code id="member">-</code> · publishing: <span id="publishing">-</span>
<button id="leave">Leave</button></p>
<figure><video id="local" autoplay muted playsinline></video><figcaption>you (<span id="localinfo">-</span>)</figcaption></figure>
<h2>Others</h2><div id="remotes"></div>
<h2>Server stats</h2><pre id="server">-</pre>
<h2>Log</h2><pre id="log"></pre>
<script>
const CONFIG = ${JSON.stringify(config)};
const params = new URLSearchParams(location.search);
const ROOM = params.get('room') || 'main';
const WIDTH = Number(params.get('width')) || CONFIG.width;
const HEIGHT = Number(params.get('height')) || CONFIG.height;
const FPS = Number(params.get('fps')) || CONFIG.frameRate;
const SIMULCAST = params.has('simulcast') ? params.get('simulcast') === '1' : CONFIG.simulcast;
// Temporal layers (scalabilityMode L1T3 on every encoding) unless ?temporal=0; a browser that
// refuses them publishes without (room.temporal says which).
const TEMPORAL = params.get('temporal') !== '0';
const $ = (id) => document.getElementById(id);
const room = window.pwtRoom = { state: 'starting', room: ROOM, member: null, pc: null, remotes: new Map(), server: null, log: [], simulcast: SIMULCAST, temporal: false };
function log(msg) { const line = new Date().toISOString().slice(11, 23) + ' ' + msg; room.log.push(line); $('log').textContent += line + '\\n'; }
function setState(s) { room.state = s; $('state').textContent = s; log('state ' + s); }
function base() { return '/rooms/' + encodeURIComponent(ROOM); }
function memberUrl(action) { return base() + '/members/' + encodeURIComponent(room.member) + (action ? '/' + action : ''); }

async function postJson(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  let value = null; try { value = JSON.parse(text); } catch {}
  if (!res.ok) throw new Error('HTTP ' + res.status + ': ' + (value && value.error || text));
  return value;
}

function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, 2000);
    pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(); } });
  });
}

async function publish() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true,
    video: { width: { ideal: WIDTH }, height: { ideal: HEIGHT }, frameRate: { ideal: FPS } } });
  $('local').srcObject = stream;
  const pc = room.pc = new RTCPeerConnection();
  for (const track of stream.getTracks()) {
    const init = { direction: 'sendonly', streams: [stream] };
    if (track.kind !== 'video') { pc.addTransceiver(track, init); continue; }
    const encodings = SIMULCAST
      ? [{ rid: 'low', scaleResolutionDownBy: 4 }, { rid: 'mid', scaleResolutionDownBy: 2 }, { rid: 'high', scaleResolutionDownBy: 1 }]
      : [{}];
    let transceiver = null;
    if (TEMPORAL) {
      try {
        transceiver = pc.addTransceiver(track, { ...init, sendEncodings: encodings.map((e) => ({ ...e, scalabilityMode: 'L1T3' })) });
        room.temporal = true;
      } catch (e) { log('no temporal layers (' + e.message + ')'); }
    }
    if (!transceiver) pc.addTransceiver(track, SIMULCAST ? { ...init, sendEncodings: encodings } : init);
  }
  pc.addEventListener('connectionstatechange', () => { setState(pc.connectionState); });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const { member, answer } = await postJson(base() + '/join', { offer: pc.localDescription.sdp });
  room.member = member; $('member').textContent = member;
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  log('joined room ' + ROOM + ' as ' + member + (SIMULCAST ? ' (simulcast low/mid/high)' : '') + (room.temporal ? ' with temporal layers L1T3' : ''));
}

function remoteView(id) {
  const fig = document.createElement('figure'); fig.dataset.member = id;
  const video = document.createElement('video'); video.autoplay = true; video.muted = true; video.playsInline = true;
  const audio = document.createElement('audio'); audio.autoplay = true;
  const cap = document.createElement('figcaption');
  const info = document.createElement('span'); info.textContent = id.slice(0, 8) + ': connecting';
  const lower = document.createElement('button'); lower.textContent = 'lower layer';
  const higher = document.createElement('button'); higher.textContent = 'higher layer';
  lower.onclick = () => room.requestLayer(id, -1).catch((e) => log(e.message));
  higher.onclick = () => room.requestLayer(id, +1).catch((e) => log(e.message));
  lower.disabled = higher.disabled = true;
  // Temporal layer: every one (the default), or up to T0/T1/T2 (a lower frame rate).
  const temporal = document.createElement('select');
  for (const [value, text] of [['', 'all frames'], ['0', 'T0'], ['1', 'T0+T1'], ['2', 'T0..T2']]) {
    const o = document.createElement('option'); o.value = value; o.textContent = text; temporal.append(o);
  }
  temporal.onchange = () => room.setTemporalLayer(id, temporal.value === '' ? undefined : Number(temporal.value)).catch((e) => log(e.message));
  const autoLabel = document.createElement('label'); const auto = document.createElement('input'); auto.type = 'checkbox';
  auto.onchange = () => room.setAuto(id, auto.checked).catch((e) => log(e.message));
  autoLabel.append(auto, ' auto');
  cap.append(info, ' ', lower, ' ', higher, ' ', temporal, ' ', autoLabel);
  fig.append(video, audio, cap); $('remotes').append(fig);
  return { fig, video, audio, info, lower, higher, temporal, auto };
}

async function subscribe(id) {
  const view = remoteView(id);
  const pc = new RTCPeerConnection();
  const remote = { id, pc, view, stream: new MediaStream(), stats: null, layer: null };
  room.remotes.set(id, remote);
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addEventListener('track', (ev) => {
    remote.stream.addTrack(ev.track);
    if (ev.track.kind === 'video') { view.video.srcObject = new MediaStream([ev.track]); view.video.play().catch(() => {}); }
    else { view.audio.srcObject = new MediaStream([ev.track]); view.audio.play().catch(() => {}); }
  });
  pc.addEventListener('connectionstatechange', () => {
    log(id.slice(0, 8) + ' ' + pc.connectionState);
    if (pc.connectionState === 'failed' && room.remotes.get(id) === remote) unsubscribe(id);
  });
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const { answer } = await postJson(memberUrl('subscribe'), { from: id, offer: pc.localDescription.sdp });
    if (room.remotes.get(id) !== remote) return;
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    log('subscribed to ' + id.slice(0, 8));
  } catch (e) {
    log('subscribe to ' + id.slice(0, 8) + ' failed: ' + e.message);
    if (room.remotes.get(id) === remote) unsubscribe(id);
  }
}

function unsubscribe(id) {
  const remote = room.remotes.get(id);
  if (!remote) return;
  room.remotes.delete(id);
  remote.pc.close();
  remote.view.fig.remove();
  log('removed ' + id.slice(0, 8));
}

/** The server's consumers for my subscription to member id, by kind. */
function serverConsumers(id) {
  const me = room.server && room.server.room.members.find((m) => m.id === room.member);
  const sub = me && me.subscriptions.find((s) => s.from === id);
  const out = {}; if (sub) for (const c of sub.consumers) out[c.kind] = c;
  return out;
}

function layerText(c) {
  if (!c) return 'no consumer yet';
  if (c.spatialLayers.length < 2) return 'single layer';
  const name = (i) => i + ' (' + c.spatialLayers[i] + ')';
  const now = c.currentLayers ? 'layer ' + name(c.currentLayers.spatialLayer) + ' T' + c.currentLayers.temporalLayer : 'waiting for a key frame';
  const auto = c.autoLayers ? ', auto (target ' + c.targetLayers.spatialLayer + ' T' + c.targetLayers.temporalLayer + ')' : '';
  const asked = c.wantedSpatialLayer === (c.currentLayers && c.currentLayers.spatialLayer) ? '' : ', asked ' + name(c.wantedSpatialLayer);
  return now + asked + auto + ', live ' + (c.liveLayers.length ? c.liveLayers.join('+') : 'none');
}

async function remoteStats(remote) {
  const out = { id: remote.id, connectionState: remote.pc.connectionState, framesDecoded: 0, framesPerSecond: 0, frameWidth: 0, frameHeight: 0, audioPacketsReceived: 0, videoPacketsReceived: 0 };
  (await remote.pc.getStats()).forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    if (s.kind === 'video') { out.framesDecoded = s.framesDecoded || 0; out.framesPerSecond = s.framesPerSecond || 0; out.frameWidth = s.frameWidth || 0; out.frameHeight = s.frameHeight || 0; out.videoPacketsReceived = s.packetsReceived || 0; }
    else if (s.kind === 'audio') out.audioPacketsReceived = s.packetsReceived || 0;
  });
  remote.stats = out;
  return out;
}

/** Stats of every remote video, for the page and for tests. */
room.remoteStats = async () => Promise.all([...room.remotes.values()].map(remoteStats));

/** Asks the server for the next lower (step -1) or higher (+1) spatial layer of member id's video. */
room.requestLayer = async (id, step) => {
  const c = serverConsumers(id).video;
  if (!c || c.spatialLayers.length < 2) throw new Error(id.slice(0, 8) + ' publishes a single layer');
  const spatialLayer = Math.max(0, Math.min(c.spatialLayers.length - 1, c.wantedSpatialLayer + step));
  return room.setLayer(id, spatialLayer, room.remotes.get(id)?.temporalLayer);
};

/** Asks the server for spatial layer spatialLayer (and temporal layer temporalLayer, default all) of member id's video. */
room.setLayer = async (id, spatialLayer, temporalLayer) => {
  log('asking for layer ' + spatialLayer + (temporalLayer === undefined ? '' : ' T' + temporalLayer) + ' of ' + id.slice(0, 8));
  const remote = room.remotes.get(id);
  if (remote) remote.temporalLayer = temporalLayer;
  const answer = await postJson(memberUrl('layers'), { from: id, spatialLayer, ...(temporalLayer === undefined ? {} : { temporalLayer }) });
  await poll();
  return answer;
};

/** Keeps the spatial layer asked for and asks for temporal layer temporalLayer (undefined: all). */
room.setTemporalLayer = async (id, temporalLayer) => {
  const c = serverConsumers(id).video;
  if (!c) throw new Error(id.slice(0, 8) + ': no video yet');
  return room.setLayer(id, c.wantedSpatialLayer, temporalLayer);
};

/** Turns automatic layer selection (under the layers asked for) on or off for member id's video. */
room.setAuto = async (id, on) => {
  log((on ? 'automatic layers for ' : 'manual layers for ') + id.slice(0, 8));
  const answer = await postJson(memberUrl('layers'), { from: id, auto: on });
  await poll();
  return answer;
};

async function poll() {
  if (!room.member || room.state === 'left') return;
  try {
    const res = await fetch(memberUrl('state'));
    if (res.status === 404) { log('the server no longer knows this member'); return room.leave(); }
    if (!res.ok) return;
    room.server = await res.json();
  } catch { return; }
  const me = room.member;
  const others = room.server.room.members.filter((m) => m.id !== me);
  for (const m of others) if (m.publishing && !room.remotes.has(m.id)) subscribe(m.id);
  for (const id of [...room.remotes.keys()]) if (!others.some((m) => m.id === id)) unsubscribe(id);
  const mine = room.server.room.members.find((m) => m.id === me);
  $('publishing').textContent = mine && mine.publishing ? mine.producers.map((p) => p.kind + ' ' + p.packetsReceived + ' pkts').join(', ') : 'not yet';
  $('server').textContent = JSON.stringify({ router: room.server.router, room: room.server.room }, null, 1);
}

async function refresh() {
  for (const s of await room.remoteStats()) {
    const remote = room.remotes.get(s.id); if (!remote) continue;
    const c = serverConsumers(s.id).video;
    const layers = c ? c.spatialLayers.length : 0;
    remote.view.lower.disabled = layers < 2 || c.wantedSpatialLayer === 0;
    remote.view.higher.disabled = layers < 2 || c.wantedSpatialLayer === layers - 1;
    if (c) remote.view.auto.checked = c.autoLayers;
    remote.view.info.textContent = s.id.slice(0, 8) + ': ' + layerText(c) + ' · ' + s.frameWidth + 'x' + s.frameHeight + ' · ' + s.framesPerSecond + ' fps · ' + s.framesDecoded + ' frames · audio ' + s.audioPacketsReceived + ' pkts';
  }
  const v = $('local'); $('localinfo').textContent = v.videoWidth + 'x' + v.videoHeight;
}

room.leave = async () => {
  if (room.state === 'left') return;
  const member = room.member;
  for (const id of [...room.remotes.keys()]) unsubscribe(id);
  if (room.pc) room.pc.close();
  setState('left');
  if (member) await fetch(base() + '/members/' + encodeURIComponent(member), { method: 'DELETE' }).catch(() => {});
};

async function main() {
  $('room').textContent = ROOM;
  await publish();
  setInterval(poll, 1000); setInterval(refresh, 1000); poll();
  $('leave').onclick = () => room.leave();
  window.addEventListener('pagehide', () => { if (room.member && room.state !== 'left') navigator.sendBeacon(memberUrl('leave'), ''); });
}
room.ready = main().catch((e) => { setState('error'); log(String(e && e.stack || e)); });
</script></body></html>
`;
}
