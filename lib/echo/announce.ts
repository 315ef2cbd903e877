// Announcing a public address for a server behind 1:1 NAT: the answer's host candidates
// (RFC 8839 §5.1) and c= lines carry the public IP instead of the local one the sockets bind to.

/**
 * Returns `sdp` with the connection address of every host candidate and every `c=` line replaced
 * by `publicIp`. Other candidate types and all other lines are left as they are.
 */
export function announceAddress(sdp: string, publicIp: string): string {
  const family = publicIp.includes(':') ? 'IP6' : 'IP4';
  return sdp.split('\r\n').map((line) => {
    if (line.startsWith('c=IN ')) return `c=IN ${family} ${publicIp}`;
    if (!line.startsWith('a=candidate:')) return line;
    const f = line.split(' ');
    // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...
    if (f.length < 8 || f[6] !== 'typ' || f[7] !== 'host') return line;
    f[4] = publicIp;
    return f.join(' ');
  }).join('\r\n');
}
