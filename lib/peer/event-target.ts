// W3C-style event dispatch over a typed EventEmitter: `on('x', fn)`, `addEventListener('x', fn)`
// and `onx = fn` all receive the same event object (https://dom.spec.whatwg.org/#interface-eventtarget).
import { reportListenerError, TypedEventEmitter } from '../common/typed-emitter.js';

/** Every event this package dispatches has a `type` naming it. */
export interface PeerEvent<T extends string = string> {
  readonly type: T;
}

/** Maps event names to their event object type. */
export type PeerEventMap = { [type: string]: PeerEvent };

type Listeners<M extends PeerEventMap> = { [K in keyof M & string]: [M[K]] };

/**
 * A typed emitter whose events carry one event object. Listener exceptions are reported as a
 * process warning and never unwind into protocol code.
 */
export class PeerEventTarget<M extends PeerEventMap> extends TypedEventEmitter<Listeners<M>> {
  // Made by the first `on<type>` handler: most objects (receivers, tracks) never get one.
  private handlers: Map<string, (event: never) => void> | undefined;

  /** DOM-style registration; `once` is honoured. */
  addEventListener<K extends keyof M & string>(type: K, listener: (event: M[K]) => void, options?: { once?: boolean }): void {
    if (options?.once === true) this.once(type, listener as (...args: Listeners<M>[K]) => void);
    else this.on(type, listener as (...args: Listeners<M>[K]) => void);
  }

  /** DOM-style removal. */
  removeEventListener<K extends keyof M & string>(type: K, listener: (event: M[K]) => void): void {
    this.off(type, listener as (...args: Listeners<M>[K]) => void);
  }

  /** Sets or clears the `on<type>` handler. */
  protected setHandler<K extends keyof M & string>(type: K, handler: ((event: M[K]) => void) | null): void {
    const old = this.handlers?.get(type);
    if (old) this.off(type, old as (...args: Listeners<M>[K]) => void);
    this.handlers?.delete(type);
    if (handler) {
      (this.handlers ??= new Map()).set(type, handler as (event: never) => void);
      this.on(type, handler as (...args: Listeners<M>[K]) => void);
    }
  }

  /** The current `on<type>` handler. */
  protected getHandler<K extends keyof M & string>(type: K): ((event: M[K]) => void) | null {
    return (this.handlers?.get(type) as ((event: M[K]) => void) | undefined) ?? null;
  }

  /**
   * Dispatches `event` to every listener; a throwing listener is reported (process warning) and
   * the listeners after it still run.
   */
  dispatch<K extends keyof M & string>(event: M[K] & { type: K }): void {
    // No listener (most state changes of most connections): no copy of the listener list.
    if (this.listenerCount(event.type) === 0) return;
    const listeners = this.rawListeners(event.type) as ((e: M[K]) => void)[];
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!.call(this, event);
      } catch (err) {
        reportListenerError(err);
      }
    }
  }
}
