// ICE-TCP connections that close or are reset under a selected pair (RFC 6544 §7.2): the pair fails
// at once on both ends (the passive TcpMux side and the active side), without waiting for consent
// (RFC 7675). With only TCP the transports go disconnected, our active side reconnects and both are
// up again, and once the port is gone both fail after the grace; with a valid UDP pair the
// selection moves to it and data keeps flowing. Real sockets on loopback; the reset is a real one
// (`ss -K` aborts the active side's socket, the kernel sends the passive side an RST).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection, type RTCDataChannel } from '../../lib/peer/index.js';
import { TcpMux } from '../../lib/transport/source/tcp-mux.js';
import { until, within } from './peer-helpers.js';
import { NO_TCP_RESET, resetTcp } from './tcp-reset.js';

const skip = NO_TCP_RESET;

function opened(channel: RTCDataChannel): Promise<void> {
  return channel.readyState === 'open' ? Promise.resolve() : new Promise((r) => channel.once('open', () => r()));
}

/** Sets every UDP candidate's priority to 1, so that a TCP pair outranks every UDP pair. */
function udpLast(sdp: string): string {
  return sdp.replace(/^(a=candidate:\S+ \d+ udp )\d+ /gim, '$11 ');
}

/** ICE state changes of `pc`, with the candidate-pair states of its agent when each happened. */
function watchIce(pc: RTCPeerConnection): { states: string[]; pairsWhen: Map<string, string[]> } {
  const states: string[] = [];
  const pairsWhen = new Map<string, string[]>();
  pc.on('iceconnectionstatechange', () => {
    states.push(pc.iceConnectionState);
    const t = pc.mediaTransport;
    if (t && !pairsWhen.has(pc.iceConnectionState)) pairsWhen.set(pc.iceConnectionState, t.ice.checkList.map((p) => `${p.local.protocol}:${p.state}`));
  });
  return { states, pairsWhen };
}

test('a reset TCP connection under the only (TCP) pair: both ends disconnected at once, with the pair failed; our active end reconnects; with the port gone, both fail', { skip, timeout: 90_000 }, async () => {
  const mux = await TcpMux.listen({ address: '127.0.0.1' });
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceTcpActive: true });
  const server = new RTCPeerConnection({ hostAddresses: [], tcpMux: mux });
  try {
    client.createDataChannel('tcp');
    await client.setLocalDescription(await client.createOffer());
    await server.setRemoteDescription(client.localDescription!);
    await server.setLocalDescription(await server.createAnswer());
    await client.setRemoteDescription(server.localDescription!);
    await within(Promise.all([client.connected(), server.connected()]), 20_000, 'connected over ICE-TCP');
    const pair = server.mediaTransport!.selectedPair!;
    assert.equal(pair.local.protocol, 'tcp');
    const seen = { client: watchIce(client), server: watchIce(server) };
    assert.ok(resetTcp(pair.remoteAddress.port, mux.local.port), 'the connection was reset');

    // Disconnected because the pair failed (a silence-based disconnection would find it succeeded).
    await until(() => seen.server.states.includes('disconnected') && seen.client.states.includes('disconnected'), 20_000, 'both disconnected');
    assert.deepEqual(seen.server.pairsWhen.get('disconnected'), ['tcp:failed']);
    // The active end's pair is already being checked again over a new connection (a silence-based
    // disconnection would find it succeeded).
    const clientPairs = seen.client.pairsWhen.get('disconnected')!;
    assert.ok(clientPairs.includes('tcp:waiting') || clientPairs.includes('tcp:in-progress'), JSON.stringify(clientPairs));
    // Our active end opens a new connection at once and both are up again (docs/ice.md "ICE-TCP").
    const up = (pc: RTCPeerConnection): boolean => pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed';
    await until(() => up(client) && up(server) && mux.stats.connectionsAccepted === 2, 20_000, 'reconnected');
    assert.equal(client.mediaTransport!.ice.stats.tcpReconnects, 1);

    // The port goes away: nothing to reconnect to. Both fail once the grace (disconnectedTimeoutMs) is over.
    mux.close();
    await until(() => server.iceConnectionState === 'failed' && client.iceConnectionState === 'failed', 60_000, 'both failed');
    assert.equal(server.mediaTransport!.ice.stateReason, 'tcp-connection-closed');
    assert.equal(client.mediaTransport!.ice.stateReason, 'tcp-connection-closed');
    assert.deepEqual(seen.server.states.slice(-2), ['disconnected', 'failed']);
    assert.match(server.failureReason ?? '', /TCP connection of the selected pair closed/);
    assert.match(client.failureReason ?? '', /TCP connection of the selected pair closed/);
    const stats = [...(await server.getStats()).values()].filter((s) => s.type === 'candidate-pair');
    assert.ok(stats.length >= 1 && stats.every((s) => s.state === 'failed'), JSON.stringify(stats.map((s) => s.state)));
    assert.equal(mux.stats.connectionsOpen, 0);
  } finally {
    client.close();
    server.close();
    mux.close();
  }
});

test('a reset TCP connection under the selected pair with a valid UDP pair: both ends move to UDP, data keeps flowing', { skip, timeout: 90_000 }, async () => {
  const mux = await TcpMux.listen({ address: '127.0.0.1' });
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceTcpActive: true });
  const server = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], tcpMux: mux });
  try {
    const mine = client.createDataChannel('failover');
    const theirs = new Promise<RTCDataChannel>((r) => server.once('datachannel', (e) => r(e.channel)));
    // Each side sees the other's UDP candidates with priority 1: the TCP pair is the best one and is
    // selected, while the UDP pair is checked and valid too.
    await client.setLocalDescription(await client.createOffer());
    await server.setRemoteDescription({ type: 'offer', sdp: udpLast(client.localDescription!.sdp) });
    await server.setLocalDescription(await server.createAnswer());
    await client.setRemoteDescription({ type: 'answer', sdp: udpLast(server.localDescription!.sdp) });
    await within(Promise.all([client.connected(), server.connected()]), 20_000, 'connected');
    const other = await within(theirs, 20_000, 'channel');
    await within(Promise.all([opened(mine), opened(other)]), 20_000, 'channel open');
    const validUdp = (pc: RTCPeerConnection): boolean => pc.mediaTransport!.ice.checkList.some((p) => p.local.protocol === 'udp' && p.valid);
    await until(
      () => server.mediaTransport!.selectedPair?.local.protocol === 'tcp' && client.mediaTransport!.selectedPair?.local.protocol === 'tcp' && validUdp(client) && validUdp(server),
      20_000,
      'TCP selected on both ends, a valid UDP pair on both',
    );
    const seen = { client: watchIce(client), server: watchIce(server) };
    const tcp = server.mediaTransport!.selectedPair!;
    assert.ok(resetTcp(tcp.remoteAddress.port, mux.local.port), 'the connection was reset');

    await until(
      () => server.mediaTransport!.selectedPair?.local.protocol === 'udp' && client.mediaTransport!.selectedPair?.local.protocol === 'udp',
      20_000,
      'both ends moved to the UDP pair',
    );
    // The TCP pair failed; the transports never left connected/completed.
    assert.ok(server.mediaTransport!.ice.checkList.some((p) => p.local.protocol === 'tcp' && p.state === 'failed'));
    for (const s of [...seen.client.states, ...seen.server.states]) assert.ok(s === 'connected' || s === 'completed', `ICE went ${s}`);
    // Data both ways over UDP now.
    const toServer = new Promise<unknown>((r) => other.once('message', (e) => r(e.data)));
    mine.send('after the reset');
    assert.equal(await within(toServer, 20_000, 'message to the server'), 'after the reset');
    const toClient = new Promise<unknown>((r) => mine.once('message', (e) => r(e.data)));
    other.send('back over UDP');
    assert.equal(await within(toClient, 20_000, 'message to the client'), 'back over UDP');
    const stats = (await server.getStats()) as unknown as Map<string, { type: string; selectedCandidatePairId?: string; localCandidateId?: string; protocol?: string }>;
    const transport = [...stats.values()].find((s) => s.type === 'transport')!;
    const selected = stats.get(transport.selectedCandidatePairId!)!;
    assert.equal(stats.get(selected.localCandidateId!)!.protocol, 'udp');
  } finally {
    client.close();
    server.close();
    mux.close();
  }
});
