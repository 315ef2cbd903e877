// A room (docs/sfu.md "Room server"): its members, who subscribes to whom, and cleanup when a member
// leaves (its publisher connection, its producers, its subscriptions and every other member's
// subscription to it). HTTP-free: room-server.ts maps requests onto these calls.
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { InvalidStateError, PwtError } from '../common/errors.js';
import { reportListenerError, TypedEventEmitter } from '../common/typed-emitter.js';
import { RoomMember, type RoomMemberSnapshot } from './room-member.js';
import { RoomSubscription, type RoomLegOptions } from './room-subscription.js';
import type { PreferredLayers } from '../sfu/index.js';

/** How often the room looks at which simulcast layers are live, in milliseconds. */
export const LAYER_CHECK_INTERVAL_MS = 1000;

/** Events of a {@link Room}. */
export type RoomEvents = {
  /** A member's publisher connection was answered. */
  join: [member: RoomMember];
  /** A member left (`why`: 'leave', 'closed', 'failed', 'timeout', 'room closed'); everything of it is closed. */
  leave: [member: RoomMember, why: string];
};

/** Options of a {@link Room}. */
export interface RoomOptions extends RoomLegOptions {
  /** Most members at once (default 16); a further join throws ERR_ROOM_FULL. */
  maxMembers?: number;
  /** A connection not connected this many ms after its offer is closed (default 30000). */
  connectTimeoutMs?: number;
}

/** A room as its stats show it. */
export interface RoomSnapshot {
  readonly name: string;
  readonly members: RoomMemberSnapshot[];
}

/** The members of one room on a shared router. */
export class Room extends TypedEventEmitter<RoomEvents> {
  readonly name: string;
  private readonly options: RoomOptions;
  private readonly membersValue = new Map<string, RoomMember>();
  private closedValue = false;

  private readonly layerTimer: ReturnType<typeof setInterval>;

  constructor(name: string, options: RoomOptions) {
    super();
    this.name = name;
    this.options = options;
    // Once a second: which simulcast layers are live, and every subscriber on the best live layer
    // not above the one it asked for (layer-keeper.ts).
    this.layerTimer = setInterval(() => this.keepLayers(), LAYER_CHECK_INTERVAL_MS).unref();
  }

  /** Members by id. */
  get members(): ReadonlyMap<string, RoomMember> {
    return this.membersValue;
  }

  get closed(): boolean {
    return this.closedValue;
  }

  /** Answers a page's publish offer: a new member whose streams become producers once connected. */
  async join(offer: string): Promise<RoomMember> {
    this.assertOpen();
    const max = this.options.maxMembers ?? 16;
    if (this.membersValue.size >= max) throw new InvalidStateError('ERR_ROOM_FULL', `the room has ${max} members`);
    const member = await RoomMember.join(randomUUID(), offer, this.options);
    if (this.closedValue) {
      member.close();
      this.assertOpen();
    }
    this.membersValue.set(member.id, member);
    this.watch(member.pc, () => this.leave(member.id, 'timeout'), (state) => this.leave(member.id, state));
    this.safeEmit('join', member);
    return member;
  }

  /**
   * Answers member `memberId`'s recvonly offer for member `from`'s media. A previous subscription
   * to `from` is replaced (the page re-subscribes after its connection failed).
   */
  async subscribe(memberId: string, from: string, offer: string): Promise<RoomSubscription> {
    this.assertOpen();
    const member = this.member(memberId);
    const source = this.member(from);
    if (member === source) throw new PwtError('InvalidAccessError', 'ERR_ROOM_SELF', 'a member does not subscribe to itself');
    if (!source.publishing) throw new InvalidStateError('ERR_ROOM_NOT_PUBLISHING', `member ${from} is not publishing yet`);
    const subscription = await RoomSubscription.answer(from, offer, source.producers, this.options, (p) => source.liveLayersOf(p));
    if (member.closed || source.closed) {
      subscription.close();
      throw new InvalidStateError('ERR_ROOM_NO_MEMBER', 'the member left');
    }
    member.subscriptions.get(from)?.close();
    member.subscriptions.set(from, subscription);
    const end = (): void => {
      subscription.close();
      if (member.subscriptions.get(from) === subscription) member.subscriptions.delete(from);
    };
    this.watch(subscription.pc, end, end);
    return subscription;
  }

  /** Asks for other layers of member `from`'s video in member `memberId`'s subscription to it. */
  setPreferredLayers(memberId: string, from: string, layers: PreferredLayers): { wantedSpatialLayer: number; preferredLayers: PreferredLayers } {
    this.assertOpen();
    const subscription = this.member(memberId).subscriptions.get(from);
    if (!subscription) throw new InvalidStateError('ERR_ROOM_NOT_SUBSCRIBED', `member ${memberId} does not subscribe to ${from}`);
    return subscription.setPreferredLayers(layers);
  }

  /** Turns automatic layer selection of member `from`'s video on or off in member `memberId`'s subscription to it. */
  setAutoLayers(memberId: string, from: string, on: boolean): { autoLayers: boolean; preferredLayers: PreferredLayers } {
    this.assertOpen();
    const subscription = this.member(memberId).subscriptions.get(from);
    if (!subscription) throw new InvalidStateError('ERR_ROOM_NOT_SUBSCRIBED', `member ${memberId} does not subscribe to ${from}`);
    return subscription.setAutoLayers(on);
  }

  /** Removes a member and closes everything of it. False when there is no such member. */
  leave(memberId: string, why = 'leave'): boolean {
    const member = this.membersValue.get(memberId);
    if (!member) return false;
    this.membersValue.delete(memberId);
    member.close();
    for (const other of this.membersValue.values()) {
      other.subscriptions.get(memberId)?.close();
      other.subscriptions.delete(memberId);
    }
    this.safeEmit('leave', member, why);
    return true;
  }

  /** The member `id`; throws ERR_ROOM_NO_MEMBER. */
  member(id: string): RoomMember {
    const m = this.membersValue.get(id);
    if (!m) throw new InvalidStateError('ERR_ROOM_NO_MEMBER', `no member ${id} in room ${this.name}`);
    return m;
  }

  snapshot(): RoomSnapshot {
    return { name: this.name, members: [...this.membersValue.values()].map((m) => m.snapshot()) };
  }

  /** Every member leaves. Idempotent. */
  close(): void {
    if (this.closedValue) return;
    for (const id of [...this.membersValue.keys()]) this.leave(id, 'room closed');
    this.closedValue = true;
    clearInterval(this.layerTimer);
  }

  private keepLayers(): void {
    const now = performance.now();
    for (const m of this.membersValue.values()) m.sampleLayers(now);
    for (const m of this.membersValue.values()) {
      for (const s of m.subscriptions.values()) {
        try {
          s.keepLayers();
        } catch (error) {
          // Only a consumer closed under us can throw here; the next look skips it.
          reportListenerError(error);
        }
      }
    }
  }

  /** Calls `timedOut` if `pc` is not connected in time and `ended` when it fails or closes. */
  private watch(pc: RoomMember['pc'], timedOut: () => void, ended: (state: 'failed' | 'closed') => void): void {
    const timeoutMs = this.options.connectTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      if (pc.connectionState !== 'connected') timedOut();
    }, timeoutMs).unref();
    const onState = (): void => {
      const state = pc.connectionState;
      if (state === 'connected' || state === 'failed' || state === 'closed') clearTimeout(timer);
      if (state === 'failed' || state === 'closed') {
        pc.off('connectionstatechange', onState);
        ended(state);
      }
    };
    pc.on('connectionstatechange', onState);
    // close() fires no connectionstatechange (webrtc-pc §4.4.1.5).
    pc.whenClosed(() => {
      clearTimeout(timer);
      pc.off('connectionstatechange', onState);
    });
  }

  private assertOpen(): void {
    if (this.closedValue) throw new InvalidStateError('ERR_ROOM_CLOSED', 'the room is closed');
  }
}
