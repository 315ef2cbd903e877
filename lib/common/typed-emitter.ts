// A typed wrapper over Node's EventEmitter: event names and listener arguments are checked.
import { EventEmitter } from 'node:events';

/** Maps event names to the tuple of arguments their listeners receive. */
export type EventMap = { [event: string]: unknown[] };

/**
 * The listener table (`_events`) this class gives Node's EventEmitter on the first listener. Node
 * makes it as `{ __proto__: null }`, which V8 keeps as a property dictionary: every first listener
 * of an event type is then a runtime call that adds to the dictionary, about 2.5 % of a 1000-pair
 * burst's negotiation for the four listeners each PeerTransport puts on its ICE transport
 * (docs/peer.md "Setup cost"). An instance of this constructor is an ordinary (fast) object whose
 * property additions follow one shared chain of hidden classes. Its prototype is an empty object
 * with a null prototype, so it reads as Node's table does: no inherited name (`constructor`,
 * `toString`) looks like a listener, and `__proto__` is a plain key.
 */
const ListenerTable = function ListenerTable() {} as unknown as new () => object;
(ListenerTable as unknown as { prototype: object }).prototype = Object.create(null) as object;

/**
 * EventEmitter with typed `on`/`once`/`off`/`emit`. Listener exceptions are caught by
 * `safeEmit` so that a throwing user listener never corrupts protocol state.
 */
export class TypedEventEmitter<Events extends EventMap> extends EventEmitter {
  constructor() {
    super();
    // Node's EventEmitter makes its listener table (a null-prototype object, i.e. a property
    // dictionary of about 0.2 KiB) in its constructor; every method of EventEmitter also accepts
    // an undefined table and makes it on the first listener. Most emitters of a connection
    // (senders, receivers, tracks) never get one (docs/architecture.md, memory).
    (this as unknown as { _events: object | undefined })._events = undefined;
  }
  override on<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    // once() and addEventListener() come here too (EventEmitter's once calls this.on).
    const self = this as unknown as { _events: object | undefined; _eventsCount: number };
    if (self._events === undefined) {
      self._events = new ListenerTable();
      self._eventsCount = 0;
    }
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
