// Browser-side helpers the Chromium interop test injects into its pages (plain JS: it runs in
// Chromium, not in Node). window.pwtInbound(pc) summarises getStats; window.answerOffer(sdp)
// answers an offer with a peer connection that loops every received track and message back.
window.pwtInbound = async function (pc) {
  const out = { inbound: [], srtpCipher: undefined, dtlsCipher: undefined };
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp') {
      out.inbound.push({ kind: s.kind, packetsReceived: s.packetsReceived || 0, framesDecoded: s.framesDecoded, totalSamplesReceived: s.totalSamplesReceived });
    }
    if (s.type === 'transport') {
      out.srtpCipher = s.srtpCipher;
      out.dtlsCipher = s.dtlsCipher;
    }
  });
  return out;
};

window.answerOffer = async function (sdp) {
  const pc = (window.pc = new RTCPeerConnection());
  pc.ondatachannel = (ev) => {
    const dc = ev.channel;
    dc.binaryType = 'arraybuffer';
    dc.onmessage = (m) => dc.send(m.data);
  };
  const audioOut = new MediaStream();
  pc.ontrack = (ev) => {
    if (ev.track.kind !== 'audio') return;
    // Received audio is only pulled (and so looped back) while an element plays it.
    audioOut.addTrack(ev.track);
    const el = document.getElementById('a');
    el.srcObject = audioOut;
    el.play().catch(() => {});
  };
  await pc.setRemoteDescription({ type: 'offer', sdp });
  for (const tr of pc.getTransceivers()) {
    tr.direction = 'sendrecv';
    await tr.sender.replaceTrack(tr.receiver.track);
  }
  await pc.setLocalDescription(await pc.createAnswer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const timer = setTimeout(resolve, 2000);
    pc.onicegatheringstatechange = () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    };
  });
  return pc.localDescription.sdp;
};

// WHIP publishing as a browser client with trickle ICE (RFC 9725 §4.3.1): the offer is POSTed
// before any candidate is gathered, every candidate then goes in a PATCH with If-Match; with
// `restart`, an ICE restart by PATCH (If-Match: *) follows once connected (RFC 9725 §4.3.2).
window.pwtWhipTrickle = async function (url, restart) {
  const result = { offerCandidates: -1, patches: [], restartStatus: 0, etags: [], connected: false, connectedAfterRestart: false, echo: null, echoAfterRestart: null, log: [],
    pairChangesBefore: 0, pairChangesAfter: 0, localUfragAfter: undefined, newLocalUfrag: undefined };
  const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const pc = (window.tricklePc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' }));
  for (const track of media.getTracks()) pc.addTransceiver(track, { direction: 'sendrecv' });
  const dc = pc.createDataChannel('trickle');
  const attr = (sdp, name) => new RegExp(`a=${name}:(\\S+)`).exec(sdp)[1];
  const head = (sdp) => `a=ice-ufrag:${attr(sdp, 'ice-ufrag')}\r\na=ice-pwd:${attr(sdp, 'ice-pwd')}\r\nm=${/^m=(.*)$/m.exec(sdp)[1].trim()}\r\na=mid:${attr(sdp, 'mid')}\r\n`;
  let resource;
  let etag;
  let restarting = false;
  const queued = [];
  const flush = async () => {
    if (!resource || restarting || queued.length === 0) return;
    const batch = queued.splice(0);
    let body = head(pc.localDescription.sdp);
    for (const c of batch) body += c === null ? 'a=end-of-candidates\r\n' : `a=${c.candidate}\r\n`;
    const r = await fetch(resource, { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': etag }, body });
    result.patches.push(r.status);
  };
  pc.onicecandidate = (e) => {
    if (restarting) return;
    queued.push(e.candidate);
    void flush();
  };
  await pc.setLocalDescription(await pc.createOffer());
  const offer = pc.localDescription.sdp;
  result.offerCandidates = (offer.match(/a=candidate:/g) || []).length;
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer });
  if (res.status !== 201) {
    result.log.push(`POST ${res.status}: ${await res.text()}`);
    return result;
  }
  etag = res.headers.get('etag');
  result.etags.push(etag);
  resource = new URL(res.headers.get('location'), url).href;
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  await flush();
  const state = (want, ms) => new Promise((resolve) => {
    if (pc.iceConnectionState === want) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    pc.addEventListener('iceconnectionstatechange', () => {
      if (pc.iceConnectionState === want) {
        clearTimeout(t);
        resolve(true);
      }
    });
  });
  const echo = (text) => new Promise((resolve) => {
    const t = setTimeout(() => resolve(null), 5000);
    dc.onmessage = (m) => {
      clearTimeout(t);
      resolve(m.data);
    };
    dc.send(text);
  });
  result.connected = await state('connected', 10000);
  await new Promise((resolve) => (dc.readyState === 'open' ? resolve() : (dc.onopen = resolve, setTimeout(resolve, 10000))));
  result.echo = await echo('trickled');
  if (!restart) return result;

  const transportStats = async () => {
    let t = {};
    (await pc.getStats()).forEach((x) => {
      if (x.type === 'transport') t = x;
    });
    return t;
  };
  result.pairChangesBefore = (await transportStats()).selectedCandidatePairChanges;
  restarting = true;
  pc.restartIce();
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const t = setTimeout(resolve, 3000);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(t);
        resolve();
      }
    });
  });
  const local = pc.localDescription.sdp;
  const mine = head(local) + (local.match(/^a=candidate:.*$/gm) || []).map((l) => `${l.trim()}\r\n`).join('') + 'a=end-of-candidates\r\n';
  const r = await fetch(resource, { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': '*' }, body: mine });
  result.restartStatus = r.status;
  if (r.status !== 200) {
    result.log.push(`restart PATCH ${r.status}: ${await r.text()}`);
    return result;
  }
  etag = r.headers.get('etag');
  result.etags.push(etag);
  const theirs = await r.text();
  const cands = (theirs.match(/^a=candidate:.*$/gm) || []).map((l) => `${l.trim()}\r\n`).join('');
  const answer = pc.remoteDescription.sdp
    .replace(/a=ice-ufrag:\S+/g, `a=ice-ufrag:${attr(theirs, 'ice-ufrag')}`)
    .replace(/a=ice-pwd:\S+/g, `a=ice-pwd:${attr(theirs, 'ice-pwd')}`)
    .replace(/^a=candidate:.*\r\n/gm, '')
    .replace(/^(a=ice-pwd:.*\r\n)/m, `$1${cands}`);
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  // Chromium keeps the old pair until a pair of the new ICE generation works, then switches to it.
  for (let i = 0; i < 50; i++) {
    const t = await transportStats();
    result.pairChangesAfter = t.selectedCandidatePairChanges;
    result.localUfragAfter = t.iceLocalUsernameFragment;
    if (result.pairChangesAfter > result.pairChangesBefore) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  result.newLocalUfrag = attr(local, 'ice-ufrag');
  result.connectedAfterRestart = await state('connected', 10000);
  result.echoAfterRestart = await echo('restarted');
  return result;
};

// A WHEP player (draft-ietf-wish-whep §4): a recvonly offer POSTed as application/sdp, the 201
// answer applied, received audio played by the <audio id="a"> element so that it is pulled.
window.pwtWhepPlay = async function (url) {
  const pc = (window.whepPc = new RTCPeerConnection());
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  const stream = new MediaStream();
  pc.ontrack = (ev) => {
    if (ev.track.kind !== 'audio') return;
    stream.addTrack(ev.track);
    const el = document.getElementById('a');
    el.srcObject = stream;
    el.play().catch(() => {});
  };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const t = setTimeout(resolve, 2000);
    pc.onicegatheringstatechange = () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(t);
        resolve();
      }
    };
  });
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription.sdp });
  const body = await res.text();
  if (res.status !== 201) return { status: res.status, error: body, connected: false };
  window.whepResource = new URL(res.headers.get('location'), url).href;
  await pc.setRemoteDescription({ type: 'answer', sdp: body });
  const connected = await new Promise((resolve) => {
    if (pc.connectionState === 'connected') return resolve(true);
    const t = setTimeout(() => resolve(false), 10000);
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected') {
        clearTimeout(t);
        resolve(true);
      }
    };
  });
  return { status: res.status, connected, answer: body };
};
