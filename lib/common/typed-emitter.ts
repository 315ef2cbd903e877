// A typed wrapper over Node's EventEmitter: event names and listener arguments are checked.
import { EventEmitter } from 'node:events';

/** Maps event names to the tuple of arguments their listeners receive. */
export type EventMap = { [event: string]: unknown[] };

/**
 * EventEmitter's methods without its constructor. Node's constructor (`EventEmitter.init`) makes
 * a listener table (a null-prototype object, about 0.2 KiB) that TypedEventEmitter dropped at
 * once: a dozen per connection, made and collected during set-up (docs/peer.md "Setup cost").
 * Every method of EventEmitter accepts an undefined table and makes it with the first listener;
 * `_maxListeners` and the capture-rejections flag are read through the prototype when an
 * instance has none (so `EventEmitter.captureRejections` applies to emitters made before it
 * was set, too).
 */
const EmitterMethods = function EmitterMethods(): void {} as unknown as typeof EventEmitter;
EmitterMethods.prototype = Object.create(EventEmitter.prototype, {
  constructor: { value: EmitterMethods, writable: true, configurable: true },
}) as EventEmitter;
Object.setPrototypeOf(EmitterMethods, EventEmitter);

/**
 * EventEmitter with typed `on`/`once`/`off`/`emit`. Listener exceptions are caught by
 * `safeEmit` so that a throwing user listener never corrupts protocol state.
 */
export class TypedEventEmitter<Events extends EventMap> extends EmitterMethods {
  constructor() {
    super();
    // No listener table until the first listener: most emitters of a connection (senders,
    // receivers, tracks) never get one (docs/architecture.md, memory).
    const self = this as unknown as { _events: object | undefined; _eventsCount: number; _maxListeners: number | undefined };
    self._events = undefined;
    self._eventsCount = 0;
    self._maxListeners = undefined;
  }
  override on<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }
  override once<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }
  override off<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }
  override emit<K extends keyof Events & string>(event: K, ...args: Events[K]): boolean {
    return super.emit(event, ...args);
  }
  /**
   * Emits and reports (on `process.emitWarning`-free 'listenerError' path) any listener
   * exception instead of letting it unwind into protocol code.
   */
  safeEmit<K extends keyof Events & string>(event: K, ...args: Events[K]): boolean {
    try {
      return super.emit(event, ...args);
    } catch (err) {
      reportListenerError(err);
      return true;
    }
  }
}

/** Reports an exception thrown by a user listener without unwinding our state machines. */
export function reportListenerError(err: unknown): void {
  // queueMicrotask rethrow would become an uncaughtException; a warning keeps the process alive.
  process.emitWarning(
    `pure-webrtc-transport: an event listener threw: ${err instanceof Error ? err.stack ?? err.message : String(err)}`,
    { code: 'PWT_LISTENER_ERROR' },
  );
}
