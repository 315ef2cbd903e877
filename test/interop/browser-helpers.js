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
