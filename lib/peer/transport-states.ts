// The connection-wide states over several transports (webrtc-pc §4.3.3 RTCIceConnectionState and
// RTCPeerConnectionState rules): used when an unbundled remote offer gives a connection more than
// one transport. With one transport they reduce to that transport's states.
import type { DtlsTransportState } from '../dtls/dtls-transport.js';
import type { IceConnectionState } from '../ice/ice-agent.js';

/** One transport's ICE and DTLS states. */
export interface TransportStates {
  readonly ice: IceConnectionState;
  readonly dtls: DtlsTransportState;
}

/** webrtc-pc §4.3.3 RTCIceConnectionState over all transports. */
export function aggregateIceState(states: readonly TransportStates[]): IceConnectionState {
  const ice = states.map((s) => s.ice);
  if (ice.length === 0) return 'new';
  if (ice.every((s) => s === 'closed')) return 'closed';
  if (ice.includes('failed')) return 'failed';
  if (ice.includes('disconnected')) return 'disconnected';
  if (ice.every((s) => s === 'new' || s === 'closed')) return 'new';
  if (ice.some((s) => s === 'new' || s === 'checking')) return 'checking';
  if (ice.every((s) => s === 'completed' || s === 'closed')) return 'completed';
  return 'connected';
}

/** The connection-wide states {@link aggregateConnectionState} gives. */
export type AggregateConnectionState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed';

/**
 * webrtc-pc §4.3.3 RTCPeerConnectionState of a connection with ONE transport (every bundled
 * connection): what {@link aggregateConnectionState} gives for that one transport, without the
 * arrays, objects and closures it makes. It runs on every ICE and DTLS state change of every
 * connection (docs/peer.md "Setup cost"). The iceConnectionState of one transport is its own.
 */
export function connectionStateOf(ice: IceConnectionState, dtls: DtlsTransportState): AggregateConnectionState {
  if (ice === 'failed' || dtls === 'failed') return 'failed';
  if (ice === 'disconnected') return 'disconnected';
  if ((ice === 'connected' || ice === 'completed') && (dtls === 'connected' || dtls === 'closed')) return 'connected';
  if (ice === 'new' && dtls === 'new') return 'new';
  return 'connecting';
}

/** webrtc-pc §4.3.3 RTCPeerConnectionState over all transports (a peer's close_notify counts as connected). */
export function aggregateConnectionState(states: readonly TransportStates[]): AggregateConnectionState {
  if (states.some((s) => s.ice === 'failed' || s.dtls === 'failed')) return 'failed';
  if (states.some((s) => s.ice === 'disconnected')) return 'disconnected';
  const up = (s: TransportStates): boolean => (s.ice === 'connected' || s.ice === 'completed') && (s.dtls === 'connected' || s.dtls === 'closed');
  if (states.length > 0 && states.every(up)) return 'connected';
  if (states.every((s) => s.ice === 'new' && s.dtls === 'new')) return 'new';
  return 'connecting';
}
