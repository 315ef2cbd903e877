// Packaging smoke test body, run from an installed copy of the package (plain JS, no tsx, no
// compiler) by smoke.mjs (ESM import) and smoke.cjs (CommonJS require): two RTCPeerConnections
// on loopback connect (ICE, DTLS-SRTP, SCTP), exchange Opus RTP packets made by the media entry
// point over SRTP and data-channel messages both ways, and the result comes back as one object.
'use strict';

const FRAMES = 20;
const MESSAGES = 5;

function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

module.exports = async function run(pwt, media) {
  const { RTCPeerConnection, LocalStreamTrack } = pwt;
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const track = new LocalStreamTrack({ kind: 'audio' });
    pc1.addTransceiver(track);
    const channel = pc1.createDataChannel('smoke');
    const remoteTrack = new Promise((resolve) => pc2.on('track', (e) => resolve(e.track)));
    const remoteChannel = new Promise((resolve) => pc2.on('datachannel', (e) => resolve(e.channel)));

    await pc1.setLocalDescription(await pc1.createOffer());
    await pc2.setRemoteDescription(pc1.localDescription);
    await pc2.setLocalDescription(await pc2.createAnswer());
    await pc1.setRemoteDescription(pc2.localDescription);
    await within(Promise.all([pc1.connected(), pc2.connected()]), 15_000, 'connected');

    // Media: Opus frames through the media entry point's packetizer, sent over SRTP.
    const packetizer = new media.RtpPacketizer(new media.OpusPacketizer());
    const sent = [];
    for (let i = 0; i < FRAMES; i++) {
      const frame = Buffer.concat([Buffer.from([0x78]), Buffer.from(`opus frame ${i}`)]);
      for (const p of packetizer.packetize(frame, i * 960)) {
        track.send(p);
        sent.push(frame.toString('hex'));
      }
    }
    const inbound = await within(remoteTrack, 10_000, 'remote track');
    const received = [];
    while (received.length < sent.length) {
      const packet = await within(inbound.recv(), 10_000, `RTP packet ${received.length}`);
      received.push(Buffer.from(packet.payload).toString('hex'));
    }

    // Data channel: messages each way.
    const dc2 = await within(remoteChannel, 10_000, 'remote data channel');
    if (channel.readyState !== 'open') await within(new Promise((r) => channel.once('open', r)), 10_000, 'channel open');
    const toRemote = [];
    const toLocal = [];
    const gotRemote = new Promise((resolve) => dc2.on('message', (e) => {
      toRemote.push(String(e.data));
      dc2.send(`echo ${e.data}`);
      if (toRemote.length === MESSAGES) resolve();
    }));
    const gotLocal = new Promise((resolve) => channel.on('message', (e) => {
      toLocal.push(String(e.data));
      if (toLocal.length === MESSAGES) resolve();
    }));
    for (let i = 0; i < MESSAGES; i++) channel.send(`message ${i}`);
    await within(Promise.all([gotRemote, gotLocal]), 10_000, 'data-channel messages');

    const stats = [...(await pc2.getStats()).values()];
    const rtpIn = stats.find((s) => s.type === 'inbound-rtp');
    const expected = [...Array(MESSAGES).keys()].map((i) => `message ${i}`);
    const ok = received.join() === sent.join() &&
      toRemote.join() === expected.join() &&
      toLocal.join() === expected.map((m) => `echo ${m}`).join() &&
      rtpIn !== undefined && rtpIn.packetsReceived === sent.length;
    return {
      ok,
      node: process.version,
      arch: process.arch,
      openssl: process.versions.openssl,
      rtpSent: sent.length,
      rtpReceived: received.length,
      inboundPacketsReceived: rtpIn ? rtpIn.packetsReceived : null,
      messages: [toRemote.length, toLocal.length],
      sourceHash: pwt.nativeBuildInfo().sourceHash,
    };
  } finally {
    pc1.close();
    pc2.close();
  }
};
