// An ordered chain of policy modules (docs/policy.md): add / remove / replace by name, hooks called
// in order, module effects queued in one output and carried out by the owner after the call.
// A module that throws is reported (process warning) and the others still run.
import type { RtcpPacket } from '../rtp/rtcp/compound.js';
import { reportListenerError } from '../common/typed-emitter.js';
import type { RtcpFeedback } from '../sdp/model.js';
import type { MediaKind } from './media-stream-track.js';
import {
  isLibraryFactory,
  isLibraryPolicy,
  RtpPacketBatch,
  type RtpPolicyFactory,
  type RtpPolicy,
  type RtpPolicyEventMap,
  type RtpPolicyOutput,
  type RtpPolicyParameters,
  type RtpPolicyStatsCollector,
  type NativeStreamTotals,
} from './rtp-policy.js';
import { PeerError } from './session-description.js';
import { emptyArray } from '../common/empty-array.js';

/** Where a chain's queued effects go (RTCPeerConnection implements it). */
export interface RtpPolicySink {
  sendRtcp(packets: readonly RtcpPacket[]): void;
  sendRtp(data: Buffer, retransmission: boolean): void;
  emit(module: string, name: keyof RtpPolicyEventMap, detail: RtpPolicyEventMap[keyof RtpPolicyEventMap]): void;
  /** The chain's earliest timeout may have moved earlier. */
  rearm(at: number): void;
}

type Effect =
  | { readonly kind: 'rtcp'; readonly packets: readonly RtcpPacket[] }
  | { readonly kind: 'rtp'; readonly data: Buffer; readonly retransmission: boolean }
  | { readonly kind: 'keyframe'; readonly ssrc: number | undefined }
  | { readonly kind: 'event'; readonly module: string; readonly name: keyof RtpPolicyEventMap; readonly detail: RtpPolicyEventMap[keyof RtpPolicyEventMap] };

/** The shared empty module list (a chain's lists are replaced, never changed in place). */
const NO_MODULES: readonly RtpPolicy[] = Object.freeze([]);
/** The shared empty effects list of a chain that has queued none yet (replaced on the first). */
const NO_EFFECTS: readonly Effect[] = Object.freeze([]);
/** A deferred chain's RTCP list until the first RTCP routed to it (rtcpInput). */
const NO_RTCP: readonly RtcpPacket[] = Object.freeze([]);

/**
 * One module per library factory and kind, made once per process: what a deferred chain's modules
 * would answer to the negotiation's questions and which hooks they have (the library's modules
 * answer those without state: docs/policy.md "When modules are made").
 */
const factoryProbes = new WeakMap<RtpPolicyFactory, Map<MediaKind | undefined, { module: RtpPolicy; hooks: number }>>();

function probeOf(factory: RtpPolicyFactory, kind: MediaKind | undefined): { module: RtpPolicy; hooks: number } {
  let byKind = factoryProbes.get(factory);
  if (byKind === undefined) factoryProbes.set(factory, (byKind = new Map()));
  let probe = byKind.get(kind);
  if (probe === undefined) {
    const module = factory.create(kind);
    probe = { module, hooks: hooksOf(module) };
    byKind.set(kind, probe);
  }
  return probe;
}

/**
 * The factories of a deferred chain and what their modules will have, shared by every chain of
 * those factories and kind (deferredOf): a chain keeps one reference until its modules are made,
 * instead of the modules, their state and a dozen lists.
 */
interface DeferredModules {
  readonly factories: readonly RtpPolicyFactory[];
  readonly kind: MediaKind | undefined;
  /** The union of the modules' hooks (probeOf). */
  readonly hooks: number;
  /** The modules, once made, will answer as the factories' probes do: the probes, in order. */
  readonly probes: readonly RtpPolicy[];
}

/** DeferredModules by factory list (connections of one configuration share theirs) and kind. */
const deferredByFactories = new WeakMap<readonly RtpPolicyFactory[], Map<MediaKind | undefined, DeferredModules>>();

function deferredOf(factories: readonly RtpPolicyFactory[], kind: MediaKind | undefined): DeferredModules {
  let byKind = deferredByFactories.get(factories);
  if (byKind === undefined) deferredByFactories.set(factories, (byKind = new Map()));
  let d = byKind.get(kind);
  if (d === undefined) {
    let hooks = 0;
    const probes = new Array<RtpPolicy>(factories.length);
    for (let i = 0; i < factories.length; i++) {
      const probe = probeOf(factories[i]!, kind);
      hooks |= probe.hooks;
      probes[i] = probe.module;
    }
    d = Object.freeze({ factories: Object.freeze([...factories]), kind, hooks, probes: Object.freeze(probes) });
    byKind.set(kind, d);
  }
  return d;
}

/** Which hooks a module has, one bit each (see {@link hooksOf}). */
const HOOK_OUTGOING_RTP = 1;
const HOOK_INCOMING_RTP = 2;
const HOOK_INCOMING_RTCP = 4;
const HOOK_TIMEOUT = 8;
const HOOK_NATIVE_TOTALS = 16;

function hooksOf(m: RtpPolicy): number {
  return (m.outgoingRtp !== undefined ? HOOK_OUTGOING_RTP : 0)
    | (m.incomingRtp !== undefined ? HOOK_INCOMING_RTP : 0)
    | (m.incomingRtcp !== undefined ? HOOK_INCOMING_RTCP : 0)
    | (m.nextTimeout !== undefined ? HOOK_TIMEOUT : 0)
    | (m.nativeTotals !== undefined ? HOOK_NATIVE_TOTALS : 0);
}

/**
 * The modules of `list` whose hooks (`hooks[i]` for `list[i]`) include all of `mask`, in an array of
 * exactly their number (filter's result keeps room for 17, 152 bytes; a connection has a dozen such
 * lists), or the shared empty list. Counted first, so that no filtered array is made only to be
 * copied, and read from the hook bits, so that no predicate closure is made per list and chain
 * (docs/peer.md "Setup cost").
 */
function modulesWith(list: readonly RtpPolicy[], hooks: readonly number[], mask: number): readonly RtpPolicy[] {
  let count = 0;
  for (let i = 0; i < list.length; i++) if ((hooks[i]! & mask) === mask) count++;
  if (count === 0) return NO_MODULES;
  const picked = new Array<RtpPolicy>(count);
  let n = 0;
  for (let i = 0; i < list.length; i++) if ((hooks[i]! & mask) === mask) picked[n++] = list[i]!;
  return picked;
}

/** Whether `list` has an rtcp-fb of `f`'s type and parameter. */
function hasFeedback(list: readonly RtcpFeedback[], f: RtcpFeedback): boolean {
  for (let i = 0; i < list.length; i++) if (list[i]!.type === f.type && list[i]!.parameter === f.parameter) return true;
  return false;
}

/** What the modules of a chain are given as `out`: each call queues an effect on the chain. */
class ChainOutput implements RtpPolicyOutput {
  constructor(private readonly chain: RtpPolicyChain) {}
  sendRtcp(packets: readonly RtcpPacket[]): void {
    if (packets.length > 0) this.chain.queue({ kind: 'rtcp', packets });
  }
  sendRtp(data: Uint8Array, retransmission: boolean): void {
    this.chain.queue({ kind: 'rtp', data: Buffer.from(data), retransmission });
  }
  emit<K extends keyof RtpPolicyEventMap>(name: K, detail: RtpPolicyEventMap[K]): void {
    this.chain.queue({ kind: 'event', module: this.chain.current, name, detail });
  }
  requestKeyframe(ssrc?: number): void {
    this.chain.queue({ kind: 'keyframe', ssrc });
  }
}

/** @internal What drives a chain: the connection's clock, and a hook for module changes. */
export interface RtpPolicyChainHost {
  now(): number;
  /** Modules were added, removed or replaced. */
  chainChanged(): void;
}

/** The modules of one transceiver or of the transport, in order. */
export class RtpPolicyChain {
  private modules: RtpPolicy[];
  /**
   * Set while the modules are not made yet (a chain of only the library's own factories, see
   * {@link deferred}): made by the first media, RTCP, stats question, keyframe request, native
   * source or change of the module list ({@link materialize}).
   */
  private deferredModules: DeferredModules | undefined;
  /** stop() ran before the modules were made: they are stopped right after being configured. */
  private stoppedDeferred = false;
  private withOutgoingRtp: readonly RtpPolicy[] = NO_MODULES;
  private withIncomingRtp: readonly RtpPolicy[] = NO_MODULES;
  private withIncomingRtcp: readonly RtpPolicy[] = NO_MODULES;
  private withTimeout: readonly RtpPolicy[] = NO_MODULES;
  /** Modules with both outgoingRtp and nextTimeout: the only ones a sent packet can give an earlier timeout. */
  private withOutgoingRtpAndTimeout: readonly RtpPolicy[] = NO_MODULES;
  private withNativeTotals: readonly RtpPolicy[] = NO_MODULES;
  // Made by the first addNativeSource (lib/sfu): most chains never get one.
  private nativeSources: Set<(now: number) => NativeStreamTotals> | undefined;
  // Made by the first watch (lib/sfu): most chains never get one.
  private watchers: Set<() => void> | undefined;
  private params: RtpPolicyParameters | undefined;
  private lastNow = 0;
  /** @internal Effects the modules queued (through ChainOutput), carried out by flush(); the shared empty list until the first. */
  effects: readonly Effect[] = NO_EFFECTS;
  /** The other effects list (flush swaps them); undefined while a flush is using it or before the first effect. */
  private effectsSpare: Effect[] | undefined;
  /** @internal The module being called, named in the events it emits. */
  current = '';
  private sinkValue: RtpPolicySink | undefined;
  // The two reused batches are made on first use: an idle connection never pays for their
  // typed arrays (docs/architecture.md, "What a connection costs").
  private incomingBatch: RtpPacketBatch | undefined;
  private outgoingBatch: RtpPacketBatch | undefined;
  /**
   * @internal RTCP routed to this chain during the current receive batch (the router's tap adds
   * through rtcpInput(): a deferred chain has the shared empty list until its first RTCP).
   */
  rtcpIn: readonly RtcpPacket[] = [];
  /** The other RTCP list (incomingRtcp swaps them), made by the first RTCP. */
  private rtcpSpare: RtcpPacket[] | undefined;
  // One object whose methods sit on its prototype, not four closures per chain (about 0.2 KiB
  // per chain; docs/architecture.md, "What a connection costs"); made with the first module call.
  private outputValue: RtpPolicyOutput | undefined;

  /** @internal */
  constructor(modules: readonly RtpPolicy[] = []) {
    // Nothing is configured yet, so inserting is only placing: the list is copied once, at its length.
    this.modules = modules.length === 0 ? [] : modules.slice();
    this.index(false);
  }

  /**
   * @internal A chain of the modules `factories` make for `kind`. When every factory is one of the
   * library's own, the modules are made when first needed, not here: a connection that negotiated
   * but never moved media keeps no module (docs/policy.md "When modules are made"); the
   * negotiation's questions and the hooks are answered by one module per factory and process.
   */
  static deferred(factories: readonly RtpPolicyFactory[], kind: MediaKind | undefined): RtpPolicyChain {
    if (factories.length === 0 || !factories.every(isLibraryFactory)) return new RtpPolicyChain(factories.map((f) => f.create(kind)));
    const chain = new RtpPolicyChain(NO_MODULES);
    // The shared empty list, not one per chain: nothing changes it before materialize replaces it.
    chain.modules = NO_MODULES as RtpPolicy[];
    chain.deferredModules = deferredOf(factories, kind);
    chain.rtcpIn = NO_RTCP;
    return chain;
  }

  /** @internal Whether the modules are made (false while a deferred chain waits for its first need). */
  get materialized(): boolean {
    return this.deferredModules === undefined;
  }

  /**
   * @internal Makes a deferred chain's modules: configured with what negotiation last gave (and
   * stopped if the chain was), as they would have been had they been made with the chain.
   */
  materialize(): void {
    const d = this.deferredModules;
    if (d === undefined) return;
    this.deferredModules = undefined;
    const modules = new Array<RtpPolicy>(d.factories.length);
    for (let i = 0; i < modules.length; i++) modules[i] = d.factories[i]!.create(d.kind);
    this.modules = modules;
    this.index(false);
    this.seen(this.clock());
    const params = this.params;
    if (params !== undefined) {
      for (let i = 0; i < modules.length; i++) {
        const m = modules[i]!;
        if (m.configure !== undefined) this.call(m, () => m.configure!(this.lastNow, params));
      }
    }
    if (this.stoppedDeferred) for (let i = 0; i < modules.length; i++) this.callStop(modules[i]!);
    // Offers the modules' first timeout to the timer (and sends whatever the calls above queued).
    this.flush();
  }

  /** What a question about the installed modules is asked of: the modules, or a deferred chain's probes. */
  private answering(): readonly RtpPolicy[] {
    return this.deferredModules?.probes ?? this.modules;
  }

  private hasHook(hook: number, list: readonly RtpPolicy[]): boolean {
    const d = this.deferredModules;
    return d !== undefined ? (d.hooks & hook) !== 0 : list.length > 0;
  }

  /** @internal The list RTCP for the current receive batch goes to (made by the first packet). */
  rtcpInput(): RtcpPacket[] {
    // Typed read-only outside so that nothing pushes to the shared empty list: every other list is ours.
    let list = this.rtcpIn as RtcpPacket[];
    if (list === NO_RTCP) this.rtcpIn = list = [];
    return list;
  }

  /** @internal Queues an effect (ChainOutput). */
  queue(effect: Effect): void {
    let list = this.effects as Effect[];
    if (list === NO_EFFECTS) this.effects = list = [];
    list.push(effect);
  }

  private get output(): RtpPolicyOutput {
    return (this.outputValue ??= new ChainOutput(this));
  }

  /** @internal Reused batch of incoming packets (filled by the peer connection). */
  get incoming(): RtpPacketBatch {
    return (this.incomingBatch ??= new RtpPacketBatch());
  }
  /** @internal Reused one-packet batch of outgoing packets. */
  get outgoing(): RtpPacketBatch {
    return (this.outgoingBatch ??= new RtpPacketBatch());
  }

  /**
   * @internal Who drives the chain (the peer connection's PolicyDriver): its clock, and whom to
   * tell when modules are added, removed or replaced. One reference instead of two closures
   * per chain (docs/architecture.md, memory).
   */
  host: RtpPolicyChainHost | undefined;

  /** @internal The connection's clock (the host's), else the latest `now` the chain saw. */
  clock(): number {
    return this.host ? this.host.now() : this.lastNow;
  }

  /** @internal Where effects go (set by the peer connection). */
  set sink(sink: RtpPolicySink | undefined) {
    this.sinkValue = sink;
  }

  /**
   * @internal Calls `fn` after each add/remove/replace and after each negotiation configured the
   * chain ({@link configure}: what was negotiated, e.g. `rcvr-rtt` or the rtcp-fb, may have changed),
   * so lib/sfu re-reads which of a subscriber's RTCP JavaScript needs; returns the function that stops it.
   */
  watch(fn: () => void): () => void {
    const watchers = (this.watchers ??= new Set());
    watchers.add(fn);
    return () => void watchers.delete(fn);
  }

  /** @internal Whether a module that is not the library's own (isLibraryPolicy) has incomingRtcp. */
  get hasForeignIncomingRtcp(): boolean {
    // A deferred chain's modules are all the library's own.
    for (const m of this.withIncomingRtcp) if (!isLibraryPolicy(m)) return true;
    return false;
  }

  private changed(): void {
    if (this.watchers) for (const fn of [...this.watchers]) fn();
  }

  /** The installed modules, in call order. */
  list(): readonly RtpPolicy[] {
    this.materialize();
    return [...this.modules];
  }

  /** The module named `name`, if installed. */
  get(name: string): RtpPolicy | undefined {
    this.materialize();
    return this.modules.find((m) => m.name === name);
  }

  /**
   * Installs a module at the end (or before the module named `before`). Throws
   * InvalidModificationError when a module of that name is installed. Changing which modules are
   * installed changes the rtcp-fb of the next offer/answer, not the current negotiation.
   */
  add(module: RtpPolicy, options: { before?: string } = {}): void {
    this.materialize();
    if (this.get(module.name)) {
      throw new PeerError('InvalidModificationError', 'ERR_POLICY_EXISTS', `a policy module named '${module.name}' is already installed`);
    }
    let at = this.modules.length;
    if (options.before !== undefined) {
      const i = this.modules.findIndex((m) => m.name === options.before);
      if (i < 0) throw new PeerError('InvalidAccessError', 'ERR_POLICY_NOT_FOUND', `no policy module named '${options.before}'`);
      at = i;
    }
    this.insert(module, at);
    this.index();
    this.host?.chainChanged();
    this.changed();
  }

  /** Uninstalls the module named `name` (its `stop` runs); returns whether it was installed. */
  remove(name: string): boolean {
    this.materialize();
    const i = this.modules.findIndex((m) => m.name === name);
    if (i < 0) return false;
    const [m] = this.modules.splice(i, 1);
    this.index();
    this.seen(this.clock());
    this.call(m!, () => m!.stop?.(this.lastNow, this.output));
    this.flush();
    this.host?.chainChanged();
    this.changed();
    return true;
  }

  /** Replaces the module named `name` by `module`, in the same place. Throws InvalidAccessError (ERR_POLICY_NOT_FOUND) when absent. */
  replace(name: string, module: RtpPolicy): void {
    this.materialize();
    const i = this.modules.findIndex((m) => m.name === name);
    if (i < 0) throw new PeerError('InvalidAccessError', 'ERR_POLICY_NOT_FOUND', `no policy module named '${name}'`);
    if (module.name !== name && this.get(module.name)) {
      throw new PeerError('InvalidModificationError', 'ERR_POLICY_EXISTS', `a policy module named '${module.name}' is already installed`);
    }
    const [old] = this.modules.splice(i, 1);
    this.seen(this.clock());
    this.call(old!, () => old!.stop?.(this.lastNow, this.output));
    this.insert(module, i);
    this.index();
    this.flush();
    this.host?.chainChanged();
    this.changed();
  }

  /**
   * Asks the modules for a keyframe from the remote sender `ssrc` (every stream when undefined):
   * the first module that serves keyframe requests sends one. Returns whether one did.
   */
  requestKeyframe(ssrc?: number): boolean {
    this.materialize();
    this.seen(this.clock());
    let served = false;
    for (const m of this.modules) {
      if (!m.requestKeyframe) continue;
      this.call(m, () => {
        served = m.requestKeyframe!(this.lastNow, ssrc, this.output);
      });
      if (served) break;
    }
    this.flush();
    return served;
  }

  /** rtcp-fb the installed modules serve for `kind` (deduplicated, in module order). */
  rtcpFeedback(kind: MediaKind): RtcpFeedback[] {
    // Indexed loops, no iterator objects: asked during every negotiation (docs/peer.md "Setup cost").
    const out: RtcpFeedback[] = [];
    const modules = this.answering();
    for (let i = 0; i < modules.length; i++) {
      const list = modules[i]!.rtcpFeedback?.(kind);
      if (list == null) continue;
      for (let j = 0; j < list.length; j++) {
        const f = list[j]!;
        if (!hasFeedback(out, f)) out.push({ ...f });
      }
    }
    return out;
  }

  /** Whether an installed module serves `a=rtcp-xr:rcvr-rtt=all` for `kind`. */
  receiverRtt(kind: MediaKind): boolean {
    return this.answering().some((m) => m.receiverRtt?.(kind) === true);
  }

  /** Header extension URIs the installed modules need for `kind`. */
  headerExtensions(kind: MediaKind): string[] {
    // A scan of the few URIs, not a Set spread into an array (docs/peer.md "Setup cost").
    const out: string[] = [];
    const modules = this.answering();
    for (let i = 0; i < modules.length; i++) {
      const list = modules[i]!.headerExtensions?.(kind);
      if (list == null) continue;
      for (let j = 0; j < list.length; j++) if (!out.includes(list[j]!)) out.push(list[j]!);
    }
    return out;
  }

  /** @internal True when some module looks at outgoing RTP. */
  get hasOutgoingRtp(): boolean {
    return this.hasHook(HOOK_OUTGOING_RTP, this.withOutgoingRtp);
  }
  /** @internal True when some module looks at incoming RTP. */
  get hasIncomingRtp(): boolean {
    return this.hasHook(HOOK_INCOMING_RTP, this.withIncomingRtp);
  }
  /** @internal True when some module looks at incoming RTCP. */
  get hasIncomingRtcp(): boolean {
    return this.hasHook(HOOK_INCOMING_RTCP, this.withIncomingRtcp);
  }
  /** @internal True when no module is installed. */
  get empty(): boolean {
    return this.deferredModules === undefined && this.modules.length === 0;
  }

  /** @internal What negotiation last configured (undefined before it), e.g. for lib/sfu to see the rtcp-fb in use. */
  get parameters(): RtpPolicyParameters | undefined {
    return this.params;
  }

  /** @internal */
  configure(now: number, params: RtpPolicyParameters): void {
    this.params = params;
    this.seen(now);
    if (this.deferredModules !== undefined) {
      // The modules are configured with these when they are made.
      this.changed();
      return;
    }
    // Inline rather than call(m, closure): a closure per module and negotiation (docs/peer.md "Setup cost").
    const modules = this.modules;
    for (let i = 0; i < modules.length; i++) {
      const m = modules[i]!;
      if (m.configure === undefined) continue;
      const previous = this.current;
      this.current = m.name;
      try {
        m.configure(this.lastNow, params);
      } catch (err) {
        reportListenerError(err);
      } finally {
        this.current = previous;
      }
    }
    this.flush();
    // A renegotiation may add or remove what a watcher derives from the parameters.
    this.changed();
  }

  /**
   * @internal Outgoing RTP in `this.outgoing`. Effects stay queued: the caller sends the batch
   * (whose bytes may sit in a scratch buffer effects would overwrite), then calls flush().
   */
  outgoingRtp(now: number): void {
    this.seen(now);
    this.materialize();
    const batch = this.outgoing;
    const list = this.withOutgoingRtp;
    // Inline try/catch: no closure per packet on the send path.
    for (let i = 0; i < list.length; i++) {
      const m = list[i]!;
      this.current = m.name;
      try {
        m.outgoingRtp!(this.lastNow, batch, this.output);
      } catch (err) {
        reportListenerError(err);
      }
    }
    this.current = '';
  }

  /** @internal Incoming RTP in `this.incoming`; empties it. */
  incomingRtp(now: number): void {
    this.seen(now);
    const batch = this.incomingBatch;
    if (batch !== undefined && batch.count > 0) {
      this.materialize();
      const list = this.withIncomingRtp;
      for (let i = 0; i < list.length; i++) {
        const m = list[i]!;
        this.current = m.name;
        try {
          m.incomingRtp!(this.lastNow, batch, this.output);
        } catch (err) {
          reportListenerError(err);
        }
      }
      this.current = '';
      batch.count = 0;
    }
    this.flush();
  }

  /** @internal Incoming RTCP collected in `rtcpIn`; empties it. */
  incomingRtcp(now: number): void {
    this.seen(now);
    if (this.rtcpIn.length > 0) {
      this.materialize();
      // Two lists swapped: packets a module's effects route here meanwhile go to the other one.
      const packets = this.rtcpIn as RtcpPacket[]; // not the shared empty list: it has packets
      this.rtcpIn = this.rtcpSpare ?? [];
      const list = this.withIncomingRtcp;
      for (let i = 0; i < list.length; i++) {
        const m = list[i]!;
        this.current = m.name;
        try {
          m.incomingRtcp!(this.lastNow, packets, this.output);
        } catch (err) {
          reportListenerError(err);
        }
      }
      this.current = '';
      emptyArray(packets);
      this.rtcpSpare = packets;
    }
    this.flush();
  }

  /** @internal RTCP the application sends. */
  outgoingRtcp(now: number, packets: readonly RtcpPacket[]): void {
    this.seen(now);
    this.materialize();
    for (const m of this.modules) if (m.outgoingRtcp) this.call(m, () => m.outgoingRtcp!(this.lastNow, packets, this.output));
    this.flush();
  }

  /**
   * @internal Adds a source of totals for streams a native engine moves (lib/sfu); the modules get
   * them before timeouts and stats. Returns the function that removes it.
   */
  addNativeSource(source: (now: number) => NativeStreamTotals): () => void {
    this.materialize();
    (this.nativeSources ??= new Set()).add(source);
    return () => {
      this.nativeSources?.delete(source);
    };
  }

  private pullNativeTotals(): void {
    if (!this.nativeSources || this.nativeSources.size === 0 || this.withNativeTotals.length === 0) return;
    for (const source of this.nativeSources) {
      let totals: NativeStreamTotals | undefined;
      try {
        totals = source(this.lastNow);
      } catch (err) {
        reportListenerError(err);
        continue;
      }
      const modules = this.withNativeTotals;
      for (let i = 0; i < modules.length; i++) this.callNativeTotals(modules[i]!, totals);
    }
  }

  /** {@link call} for the native totals without a closure per module and tick (lib/sfu pulls them at every report tick). */
  private callNativeTotals(m: RtpPolicy, totals: NativeStreamTotals): void {
    const previous = this.current;
    this.current = m.name;
    try {
      m.nativeTotals!(this.lastNow, totals, this.output);
    } catch (err) {
      reportListenerError(err);
    } finally {
      this.current = previous;
    }
  }

  /**
   * @internal Gives the modules what the native sources have now (lib/sfu's router calls it for
   * arrivals that transport-cc feedback needs before its own timer is armed).
   */
  pollNative(now: number): void {
    this.seen(now);
    this.pullNativeTotals();
    this.flush();
  }

  /** @internal Runs every module whose timeout is due. */
  timeout(now: number): void {
    this.seen(now);
    // A deferred chain has no module, so no timeout (nextTimeout is undefined: the timer never asks).
    if (this.deferredModules !== undefined) return;
    this.pullNativeTotals();
    const withTimeout = this.withTimeout;
    for (let i = 0; i < withTimeout.length; i++) {
      const m = withTimeout[i]!;
      const at = m.nextTimeout!();
      // Inline rather than call(m, closure): this runs on every report timer of every idle PC (docs/architecture.md).
      if (at === undefined || at > this.lastNow || !m.timeout) continue;
      const previous = this.current;
      this.current = m.name;
      try {
        m.timeout(this.lastNow, this.output);
      } catch (err) {
        reportListenerError(err);
      } finally {
        this.current = previous;
      }
    }
    this.flush();
  }

  /** @internal The earliest timeout any module asked for. */
  nextTimeout(): number | undefined {
    let min: number | undefined;
    const withTimeout = this.withTimeout;
    for (let i = 0; i < withTimeout.length; i++) {
      const m = withTimeout[i]!;
      const at = m.nextTimeout!();
      if (at !== undefined && (min === undefined || at < min)) min = at;
    }
    return min;
  }

  /** @internal Every module's last words (BYE...). */
  stop(now = this.clock()): void {
    this.seen(now);
    if (this.deferredModules !== undefined) {
      // Modules that saw no media have nothing to say (no BYE: nothing was sent or heard); made
      // later (stats), they are stopped as they are made.
      this.stoppedDeferred = true;
      return;
    }
    for (const m of this.modules) this.callStop(m);
    this.flush();
  }

  private callStop(m: RtpPolicy): void {
    if (m.stop !== undefined) this.call(m, () => m.stop!(this.lastNow, this.output));
  }

  /** @internal */
  collectStats(stats: RtpPolicyStatsCollector): void {
    // getStats gives every module's fields: the first stats question makes the modules.
    this.materialize();
    this.seen(this.clock());
    this.pullNativeTotals();
    for (const m of this.modules) this.call(m, () => m.collectStats?.(stats));
  }

  /**
   * @internal flush() after outgoingRtp, per sent packet: with no effect queued, only the modules
   * that just ran can have moved their timeout, so only theirs is offered to the timer.
   */
  flushOutgoing(): void {
    if (this.effects.length > 0) {
      this.flush();
      return;
    }
    const sink = this.sinkValue;
    if (sink === undefined) return;
    const list = this.withOutgoingRtpAndTimeout;
    for (let i = 0; i < list.length; i++) {
      const at = list[i]!.nextTimeout!();
      if (at !== undefined) sink.rearm(at);
    }
  }

  /** @internal Carries out queued effects through the sink and re-arms the timer. */
  flush(): void {
    const sink = this.sinkValue;
    // Keyframe requests from modules add effects of their own: loop until none is left (bounded).
    for (let round = 0; round < 4 && this.effects.length > 0; round++) {
      // Two lists swapped, as rtcpIn: effects queued meanwhile go to the other one, and a report
      // tick or a received RR that emits one event makes no new list.
      const effects = this.effects as Effect[]; // not the shared empty list: it has effects
      this.effects = this.effectsSpare ?? NO_EFFECTS;
      this.effectsSpare = undefined;
      for (let i = 0; i < effects.length; i++) {
        const e = effects[i]!;
        if (e.kind !== 'keyframe') continue;
        for (const m of this.modules) {
          if (!m.requestKeyframe) continue;
          let served = false;
          this.call(m, () => {
            served = m.requestKeyframe!(this.lastNow, e.ssrc, this.output);
          });
          if (served) break;
        }
      }
      if (sink) {
        for (let i = 0; i < effects.length; i++) {
          const e = effects[i]!;
          try {
            if (e.kind === 'keyframe') continue;
            if (e.kind === 'rtcp') sink.sendRtcp(e.packets);
            else if (e.kind === 'rtp') sink.sendRtp(e.data, e.retransmission);
            else sink.emit(e.module, e.name, e.detail);
          } catch (err) {
            reportListenerError(err);
          }
        }
      }
      emptyArray(effects);
      this.effectsSpare = effects;
    }
    if (sink && this.withTimeout.length > 0) {
      const at = this.nextTimeout();
      if (at !== undefined) sink.rearm(at);
    }
  }

  private insert(m: RtpPolicy, at: number): void {
    this.modules.splice(at, 0, m);
    if (this.params) {
      const params = this.params;
      this.call(m, () => m.configure?.(this.lastNow, params));
    }
  }

  private index(compact = true): void {
    // The list grew by splice (17 slots for a handful of modules): kept at its exact length
    // (docs/architecture.md, memory). list() hands out copies, so nothing else holds it.
    if (compact) this.modules = this.modules.length === 0 ? [] : this.modules.slice();
    const modules = this.modules;
    const hooks = new Array<number>(modules.length);
    for (let i = 0; i < modules.length; i++) hooks[i] = hooksOf(modules[i]!);
    this.withOutgoingRtp = modulesWith(modules, hooks, HOOK_OUTGOING_RTP);
    this.withIncomingRtp = modulesWith(modules, hooks, HOOK_INCOMING_RTP);
    this.withIncomingRtcp = modulesWith(modules, hooks, HOOK_INCOMING_RTCP);
    this.withTimeout = modulesWith(modules, hooks, HOOK_TIMEOUT);
    this.withOutgoingRtpAndTimeout = modulesWith(modules, hooks, HOOK_OUTGOING_RTP | HOOK_TIMEOUT);
    this.withNativeTotals = modulesWith(modules, hooks, HOOK_NATIVE_TOTALS);
  }

  private seen(now: number): void {
    if (now > this.lastNow) this.lastNow = now;
  }

  private call(m: RtpPolicy, fn: () => void): void {
    const previous = this.current;
    this.current = m.name;
    try {
      fn();
    } catch (err) {
      reportListenerError(err);
    } finally {
      this.current = previous;
    }
  }
}
