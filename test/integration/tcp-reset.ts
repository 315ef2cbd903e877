// Resets a real TCP connection on loopback with `ss -K` (SOCK_DESTROY, Linux INET_DIAG_DESTROY):
// the socket is aborted and its peer gets an RST, as a dropped NAT binding or a dying link would do.
import { spawnSync } from 'node:child_process';
import net from 'node:net';

/**
 * Aborts the TCP socket 127.0.0.1:`from` → 127.0.0.1:`to` with `ss -K`: the peer gets an RST.
 * Returns false where the kernel or the user cannot (no INET_DIAG_DESTROY, no root).
 */
export function resetTcp(from: number, to: number): boolean {
  const r = spawnSync('ss', ['-K', '-t', 'src', `127.0.0.1:${from}`, 'dst', `127.0.0.1:${to}`], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 && new RegExp(`127\\.0\\.0\\.1:${from}\\s+127\\.0\\.0\\.1:${to}`).test(r.stdout);
}

/** Whether this machine can reset a socket with `ss -K` (tried on a throwaway connection). */
export async function canResetTcp(): Promise<boolean> {
  const server = net.createServer((s) => s.on('error', () => undefined));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const client = net.connect(port, '127.0.0.1');
  client.on('error', () => undefined);
  await new Promise<void>((r) => client.once('connect', () => r()));
  const ok = resetTcp(client.localPort!, port);
  client.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return ok;
}

/** The skip message for tests that need {@link resetTcp}, or false where it works. */
export const NO_TCP_RESET: string | false = (await canResetTcp()) ? false : 'cannot reset a TCP socket here (`ss -K` needs root and CONFIG_INET_DIAG_DESTROY)';
