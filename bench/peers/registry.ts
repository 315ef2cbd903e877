// Loads one library's adapter by name; each is imported only when asked for, so a child process
// benchmarking werift never loads libwebrtc and the reverse.
import type { PeerAdapter } from './types.js';

/** Names of the benchmarked libraries, ours first. */
export const LIBRARIES = ['ours', 'ours-udpmux', 'werift', 'node-datachannel', 'wrtc'] as const;
/**
 * One of {@link LIBRARIES}, or `ours-bare` (ours without policy modules, for e2e-rtp), or
 * `ours-turn` (ours with the receiving PC relay-only through coturn, for e2e-rtp).
 */
export type LibraryName = (typeof LIBRARIES)[number] | 'ours-bare' | 'ours-turn' | 'ours-tcp';

/** The adapter of `name`. */
export async function loadAdapter(name: LibraryName): Promise<PeerAdapter> {
  switch (name) {
    case 'ours':
      return (await import('./ours.js')).ours;
    case 'ours-bare':
      return (await import('./ours.js')).oursBare;
    case 'ours-udpmux':
      return (await import('./ours.js')).oursUdpMux;
    case 'ours-turn':
      return (await import('./ours.js')).oursTurn;
    case 'ours-tcp':
      return (await import('./ours.js')).oursTcp;
    case 'werift':
      return (await import('./werift.js')).weriftAdapter;
    case 'node-datachannel':
      return (await import('./node-datachannel.js')).nodeDataChannelAdapter;
    case 'wrtc':
      return (await import('./wrtc.js')).wrtcAdapter;
  }
}
