// TURN relay through a real coturn (Debian `turnserver`) started on 127.0.0.1 with a random
// port and a long-term-credential test user: UDP, TCP and TLS allocations carry data both ways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IceTransport } from '../../lib/transport/ice-transport.js';
import { freePort, waitForServer } from './coturn.js';
import { until } from './peer-helpers.js';

const TURNSERVER = '/usr/bin/turnserver';
const available = existsSync(TURNSERVER);
let proc: ChildProcess | undefined;
let tlsProc: ChildProcess | undefined;
let port = 0;
let tlsPort = 0;
let dir = '';
const haveOpenssl = existsSync('/usr/bin/openssl');

before(async () => {
  if (!available) return;
  port = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'pwt-coturn-'));
  const relayMin = 40000 + Math.floor(Math.random() * 20000);
  proc = spawn(TURNSERVER, [
    '-n', '--no-cli', '--no-tls', '--no-dtls', '--lt-cred-mech', '--user', 'test:secret', '--realm', 'pwt.test',
    '--listening-ip', '127.0.0.1', '--relay-ip', '127.0.0.1', '--listening-port', String(port),
    '--min-port', String(relayMin), '--max-port', String(relayMin + 500), '--allow-loopback-peers',
    '--pidfile', join(dir, 'turnserver.pid'), '--log-file', 'stdout', '--no-stdout-log',
  ], { stdio: 'ignore' });
  await waitForServer(port, 10_000);
  if (!haveOpenssl) return;
  // A second instance for TURN over TLS (turns:), with a throw-away self-signed certificate.
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const gen = spawnSync('/usr/bin/openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  if (gen.status !== 0) return;
  tlsPort = await freePort();
  const plainPort = await freePort();
  tlsProc = spawn(TURNSERVER, [
    '-n', '--no-cli', '--no-dtls', '--lt-cred-mech', '--user', 'test:secret', '--realm', 'pwt.test',
    '--listening-ip', '127.0.0.1', '--relay-ip', '127.0.0.1', '--listening-port', String(plainPort), '--tls-listening-port', String(tlsPort),
    '--cert', cert, '--pkey', key, '--min-port', String(relayMin + 600), '--max-port', String(relayMin + 1100), '--allow-loopback-peers',
    '--pidfile', join(dir, 'turnserver-tls.pid'), '--log-file', 'stdout', '--no-stdout-log',
  ], { stdio: 'ignore' });
  await waitForServer(plainPort, 10_000);
});

after(() => {
  proc?.kill('SIGTERM');
  tlsProc?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});


const up = (t: IceTransport): boolean => t.state === 'connected' || t.state === 'completed';

for (const transport of ['udp', 'tcp', 'tls'] as const) {
  test(`relay over TURN/${transport.toUpperCase()} through coturn carries data both ways`, { skip: (!available && 'coturn not installed') || (transport === 'tls' && !haveOpenssl && 'openssl not installed') }, async () => {
    const url = transport === 'tls' ? `turns:127.0.0.1:${tlsPort}` : `turn:127.0.0.1:${port}?transport=${transport}`;
    const a = new IceTransport({
      role: 'controlling',
      // The test server's certificate is self-signed.
      tlsRejectUnauthorized: false,
      iceTransportPolicy: 'relay',
      iceServers: [{ urls: url, username: 'test', credential: 'secret' }],
      gather: { addresses: ['127.0.0.1'] },
    });
    const b = new IceTransport({ role: 'controlled', gather: { addresses: ['127.0.0.1'] } });
    const aLines: string[] = [];
    a.on('icecandidate', (c) => {
      if (c) aLines.push(c);
      b.addRemoteCandidate(c);
    });
    b.on('icecandidate', (c) => a.addRemoteCandidate(c));
    a.setRemoteParameters(b.localParameters);
    b.setRemoteParameters(a.localParameters);
    try {
      await Promise.all([a.gather(), b.gather()]);
      await until(() => a.gatheringState === 'complete', 10_000, 'relay gathering');
      assert.equal(aLines.length, 1);
      assert.match(aLines[0]!, /typ relay raddr/);
      await until(() => up(a) && up(b), 15_000, 'connected through the relay');
      assert.equal(a.selectedPair!.local.type, 'relay');
      const gotA: string[] = [];
      const gotB: string[] = [];
      a.setDataHandler((d) => gotA.push(d.toString()));
      b.setDataHandler((d) => gotB.push(d.toString()));
      for (let i = 0; i < 20; i++) {
        a.send(Buffer.from(`\x17a${i}`));
        b.send(Buffer.from(`\x17b${i}`));
        await new Promise((r) => setTimeout(r, 5));
      }
      await until(() => gotA.length >= 20 && gotB.length >= 20, 5000, 'relayed data');
      assert.ok(gotB.includes('\x17a0') && gotA.includes('\x17b19'));
      // b sees a's relayed address as the remote, not a's host socket.
      assert.equal(b.selectedPair!.remoteAddress.port, a.selectedPair!.local.port);
    } finally {
      a.close();
      b.close();
    }
  });
}

test('wrong TURN password: no relay candidate, a turnerror, and gathering still completes', { skip: !available && 'coturn not installed' }, async () => {
  const a = new IceTransport({
    iceTransportPolicy: 'relay',
    iceServers: [{ urls: `turn:127.0.0.1:${port}`, username: 'test', credential: 'wrong' }],
    gather: { addresses: ['127.0.0.1'] },
  });
  const errors: string[] = [];
  a.on('turnerror', (_u, e) => errors.push(e));
  try {
    await a.gather();
    await until(() => a.gatheringState === 'complete', 10_000, 'gathering complete');
    assert.equal(a.localCandidates.length, 0);
    assert.equal(errors.length, 1);
  } finally {
    a.close();
  }
});
