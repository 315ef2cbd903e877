// A real coturn (Debian `turnserver`) for tests: 127.0.0.1, a free UDP/TCP listening port, a
// long-term-credential user test:secret, loopback peers allowed; resolved once it answers STUN.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StunClass, StunMethod } from '../../lib/ice/stun-constants.js';
import { StunMessage } from '../../lib/ice/stun-message.js';

export const TURNSERVER = '/usr/bin/turnserver';

/** Why coturn tests are skipped here, or false. */
export const coturnSkip: string | false = existsSync(TURNSERVER) ? false : 'coturn (turnserver) not installed';

/** A running coturn; `close()` stops it and removes its files. */
export interface Coturn {
  readonly port: number;
  readonly url: (transport: 'udp' | 'tcp') => string;
  readonly iceServer: (transport: 'udp' | 'tcp') => { urls: string; username: string; credential: string };
  close(): void;
}

/** A UDP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  s.close();
  return p;
}

/** Resolves once coturn answers a STUN Binding request on UDP; rejects after `ms`. */
export async function waitForServer(port: number, ms: number): Promise<void> {
  const s = createSocket('udp4');
  const deadline = Date.now() + ms;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      s.on('message', () => resolve());
      const ping = (): void => {
        if (Date.now() > deadline) return reject(new Error(`coturn did not answer on port ${port} within ${ms} ms`));
        s.send(new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, 1)).encode(), port, '127.0.0.1');
        timer = setTimeout(ping, 100);
      };
      ping();
    });
  } finally {
    clearTimeout(timer);
    s.close();
  }
}

/** Starts coturn and waits (up to 10 s) until it answers; `extraArgs` are added to its command line (e.g. `--total-quota 1`). */
export async function startCoturn(extraArgs: readonly string[] = []): Promise<Coturn> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pwt-coturn-'));
  const relayMin = 40000 + Math.floor(Math.random() * 20000);
  const proc: ChildProcess = spawn(TURNSERVER, [
    '-n', '--no-cli', '--no-tls', '--no-dtls', '--lt-cred-mech', '--user', 'test:secret', '--realm', 'pwt.test',
    '--listening-ip', '127.0.0.1', '--relay-ip', '127.0.0.1', '--listening-port', String(port),
    '--min-port', String(relayMin), '--max-port', String(relayMin + 500), '--allow-loopback-peers',
    '--pidfile', join(dir, 'turnserver.pid'), '--log-file', 'stdout', '--no-stdout-log',
    ...extraArgs,
  ], { stdio: 'ignore' });
  const close = (): void => {
    proc.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForServer(port, 10_000);
  } catch (err) {
    close();
    throw err;
  }
  const url = (transport: 'udp' | 'tcp'): string => `turn:127.0.0.1:${port}?transport=${transport}`;
  return { port, url, iceServer: (transport) => ({ urls: url(transport), username: 'test', credential: 'secret' }), close };
}
