// RTCPeerConnection over the ICE driver (lib/transport/ice-transport.ts): server mode on one shared
// UDP port (UdpMux) for several connections, and TURN relay through a real coturn with
// iceTransportPolicy 'relay'. Media and data flow in both; the mux port is the only candidate.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCDataChannel } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { negotiate, within } from './peer-helpers.js';
import { connectAudioBothWays } from './turn-test-helpers.js';

async function exchange(client: RTCPeerConnection, server: RTCPeerConnection, label: string, afterNegotiate?: () => Promise<void>): Promise<void> {
  const audio = new LocalStreamTrack({ kind: 'audio' });
  client.addTransceiver(audio);
  const channel = client.createDataChannel(label);
  const remote = new Promise<MediaStreamTrack>((r) => server.once('track', (e) => r(e.track)));
  const remoteChannel = new Promise<RTCDataChannel>((r) => server.once('datachannel', (e) => r(e.channel)));
  await negotiate(client, server);
  await afterNegotiate?.();
  await within(Promise.all([client.connected(), server.connected()]), 15_000, `${label} connected`);
  audio.send(new RtpPacket({ timestamp: 1, payload: Buffer.from(label) }));
  const p = await within((await within(remote, 5000, 'track')).recv(), 5000, `${label} RTP`);
  assert.equal(p.payload.toString(), label);
  const rc = await within(remoteChannel, 10_000, `${label} datachannel`);
  const msg = new Promise<unknown>((r) => rc.once('message', (e) => r(e.data)));
  if (channel.readyState !== 'open') await within(new Promise((r) => channel.once('open', r)), 5000, 'open');
  channel.send(`data ${label}`);
  assert.equal(await within(msg, 5000, `${label} message`), `data ${label}`);
}

test('server mode: three connections share one UDP port (UdpMux)', { timeout: 60_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1', port: 0 });
  const pcs: RTCPeerConnection[] = [];
  try {
    const servers = [0, 1, 2].map(() => new RTCPeerConnection({ udpMux: mux }));
    const clients = [0, 1, 2].map(() => new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] }));
    pcs.push(...servers, ...clients);
    await Promise.all(clients.map((c, i) => exchange(c, servers[i]!, `client ${i}`)));
    const ports = new Set(servers.map((s) => /a=candidate:\S+ 1 udp \d+ \S+ (\d+) typ host/.exec(s.localDescription!.sdp)![1]));
    assert.equal(ports.size, 1, 'every server connection announces the one mux port');
  } finally {
    for (const pc of pcs) pc.close();
    mux.close();
  }
});

const TURNSERVER = '/usr/bin/turnserver';
let proc: ChildProcess | undefined;
let dir = '';
after(() => {
  proc?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function startCoturn(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  s.close();
  dir = mkdtempSync(join(tmpdir(), 'pwt-peer-coturn-'));
  const relayMin = 40000 + Math.floor(Math.random() * 20000);
  proc = spawn(TURNSERVER, [
    '-n', '--no-cli', '--no-tls', '--no-dtls', '--lt-cred-mech', '--user', 'test:secret', '--realm', 'pwt.test',
    '--listening-ip', '127.0.0.1', '--relay-ip', '127.0.0.1', '--listening-port', String(port),
    '--min-port', String(relayMin), '--max-port', String(relayMin + 500), '--allow-loopback-peers',
    '--pidfile', join(dir, 'turnserver.pid'), '--log-file', 'stdout', '--no-stdout-log',
  ], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  return port;
}

test('TURN relay through coturn with iceTransportPolicy relay', { timeout: 60_000, skip: existsSync(TURNSERVER) ? false : 'no coturn' }, async () => {
  const port = await startCoturn();
  const iceServers = [{ urls: `turn:127.0.0.1:${port}?transport=udp`, username: 'test', credential: 'secret' }];
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceServers, iceTransportPolicy: 'relay' });
  const server = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    // The relay candidate trickles after the description: forward it once the server has the offer.
    const trickled: (string | null)[] = [];
    let forward: ((c: string | null) => void) | undefined;
    client.onicecandidate = (e) => {
      const c = e.candidate?.candidate ?? null;
      if (forward) forward(c);
      else trickled.push(c);
    };
    await exchange(client, server, 'relayed', async () => {
      forward = (c) => void server.addIceCandidate({ candidate: c ?? '' });
      for (const c of trickled) forward(c);
    });
    assert.ok(trickled.some((c) => c !== null && / typ relay/.test(c)) || / typ relay/.test(client.localDescription!.sdp), 'a relay candidate was gathered');
    assert.doesNotMatch(client.localDescription!.sdp, /typ host/);
    const pair = [...(await client.getStats()).values()].find((s) => s.type === 'candidate-pair' && s.nominated === true);
    const local = [...(await client.getStats()).values()].find((s) => s.id === pair?.localCandidateId);
    assert.equal(local?.candidateType, 'relay');
  } finally {
    client.close();
    server.close();
  }
});

for (const transport of ['udp', 'tcp'] as const) {
  test(`media both ways over a TURN/${transport.toUpperCase()} relay: SRTP natively once the channel is bound (UDP: the socket's table, TCP: the stream's reader), never one native call per packet`, { timeout: 60_000, skip: existsSync(TURNSERVER) ? false : 'no coturn' }, async () => {
    const port = proc ? Number((proc.spawnargs[proc.spawnargs.indexOf('--listening-port') + 1])) : await startCoturn();
    const iceServers = [{ urls: `turn:127.0.0.1:${port}?transport=${transport}`, username: 'test', credential: 'secret' }];
    const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceServers, iceTransportPolicy: 'relay' });
    const server = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    try {
      const { up, down, upRemote, downRemote } = await connectAudioBothWays(client, server, { trickleFrom: 'client', connectMs: 15_000 });
      const [ut, dt] = [await within(upRemote, 5000, 'up track'), await within(downRemote, 5000, 'down track')];
      // The channel bind completes on its own after ICE; once it has, every packet goes natively.
      const bound = (async () => {
        while (!client.mediaTransport!.relayRouted) await new Promise((r) => setTimeout(r, 10));
      })();
      await within(bound, 10_000, 'the native TURN channel route');
      const N = 40;
      const got = (t: MediaStreamTrack, tag: string): Promise<void> => (async () => {
        const seen = new Set<string>();
        while (seen.size < N) {
          const p = await t.recv();
          assert.match(p.payload.toString(), new RegExp(`^${tag} \\d+$`));
          seen.add(p.payload.toString());
        }
      })();
      const all = Promise.all([within(got(ut, 'up'), 10_000, 'up media'), within(got(dt, 'down'), 10_000, 'down media')]);
      for (let i = 0; i < N; i++) {
        up.send(new RtpPacket({ timestamp: i * 960, payload: Buffer.from(`up ${i}`) }));
        down.send(new RtpPacket({ timestamp: i * 960, payload: Buffer.from(`down ${i}`) }));
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
      }
      await all;
      const c = client.mediaTransport!.srtpCounters;
      // A bound TURN channel takes the native route over UDP (the socket's table) and over TCP (the
      // stream's native reader; test/integration/turn-native-relay.test.ts shows it per packet); before
      // the bind completes a few packets may still go through JS batches, once per batch.
      assert.ok(c.protectedNatively + c.protectedInJs >= N && c.unprotectedNatively + c.unprotectedInJs >= N, JSON.stringify(c));
      assert.ok(c.protectedNatively > 0 && c.unprotectedNatively > 0, `natively after the bind: ${JSON.stringify(c)}`);
      assert.ok(c.jsBatchCalls <= Math.max(2, (c.protectedInJs + c.unprotectedInJs) / 4), `batch calls ${JSON.stringify(c)}`);
      const s = server.mediaTransport!.srtpCounters;
      assert.equal(s.unprotectedInJs + s.protectedInJs, 0, 'the host side keeps the native route');
    } finally {
      client.close();
      server.close();
    }
  });
}
