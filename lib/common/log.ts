// Namespaced debug logging (docs/logging.md): off by default; enabled per namespace by
// PWT_DEBUG=ice,dtls (or *), DEBUG=pwt:ice,pwt:* (the `debug` package's convention),
// NODE_DEBUG=pwt-ice, or configureLogging() at run time, with an optional sink. A disabled logger
// costs one property read: call sites pass printf-style arguments (never pre-built strings) and
// guard anything more expensive with `log.enabled`. Nothing logged may carry keys or passwords.
import { format } from 'node:util';

/** One log record as a sink receives it. */
export interface LogRecord {
  /** The namespace without the `pwt:` prefix, e.g. `ice`, `dtls`, `drop`. */
  readonly namespace: string;
  /** The formatted message (util.format of the call's arguments). */
  readonly message: string;
  /** Milliseconds since the epoch. */
  readonly time: number;
}

/** Receives the records of enabled namespaces (e.g. to forward them to pino or a test). */
export type LogSink = (record: LogRecord) => void;

/** A logger for one namespace: call it like util.format; `enabled` says whether it writes. */
export interface Logger {
  (message: string, ...args: unknown[]): void;
  /** True when the namespace is enabled: guard costly argument building with it. */
  readonly enabled: boolean;
  readonly namespace: string;
}

/** Options of {@link configureLogging}. */
export interface LoggingOptions {
  /**
   * Namespaces to enable, comma separated, as in PWT_DEBUG / DEBUG: `ice,dtls`, `*`, `pwt:*`,
   * `-sctp` to exclude one. Replaces what the environment enabled; `''` disables everything.
   */
  namespaces?: string;
  /** Where records go; null restores the default (one line on stderr: `[pwt:ice] message`). */
  sink?: LogSink | null;
}

/** The namespaces this package logs to. */
export const LOG_NAMESPACES = ['ice', 'dtls', 'sctp', 'sdp', 'peer', 'drop'] as const;

interface NamespaceState {
  enabled: boolean;
  /** The loggers of the namespace: their `enabled` data property follows `enabled`. */
  readonly loggers: { enabled: boolean }[];
}

const states = new Map<string, NamespaceState>();
let include: string[] = [];
let exclude: string[] = [];
let sink: LogSink | undefined;

function parse(spec: string): void {
  include = [];
  exclude = [];
  for (const raw of spec.split(/[\s,]+/)) {
    if (raw === '') continue;
    const negative = raw.startsWith('-');
    const name = (negative ? raw.slice(1) : raw).replace(/^pwt[:-]/, '');
    (negative ? exclude : include).push(name);
  }
}

function matches(pattern: string, namespace: string): boolean {
  if (pattern === '*' || pattern === 'pwt') return true;
  if (pattern.endsWith('*')) return namespace.startsWith(pattern.slice(0, -1));
  return pattern === namespace;
}

function isEnabled(namespace: string): boolean {
  return include.some((p) => matches(p, namespace)) && !exclude.some((p) => matches(p, namespace));
}

function fromEnvironment(): string {
  const parts: string[] = [];
  if (process.env.PWT_DEBUG) parts.push(process.env.PWT_DEBUG);
  for (const d of (process.env.DEBUG ?? '').split(/[\s,]+/)) {
    if (/^-?pwt[:*]/.test(d) || d === '*') parts.push(d === '*' ? '*' : d);
  }
  for (const d of (process.env.NODE_DEBUG ?? '').split(/[\s,]+/)) if (/^pwt-/.test(d)) parts.push(d);
  return parts.join(',');
}

parse(fromEnvironment());

function defaultSink(record: LogRecord): void {
  process.stderr.write(`[pwt:${record.namespace}] ${record.message}\n`);
}

/** Returns the logger of `namespace` (one per namespace; cheap to call at module load). */
export function createLogger(namespace: string): Logger {
  let state = states.get(namespace);
  if (!state) {
    state = { enabled: isEnabled(namespace), loggers: [] };
    states.set(namespace, state);
  }
  const s = state;
  const log = (message: string, ...args: unknown[]): void => {
    if (!s.enabled) return;
    const record: LogRecord = { namespace, message: args.length > 0 ? format(message, ...args) : message, time: Date.now() };
    try {
      (sink ?? defaultSink)(record);
    } catch {
      // A failing sink must not break the protocol code that logged.
    }
  };
  // A plain data property (an accessor made `if (log.enabled)` ten times slower than the call
  // itself, bench/suites/logging.ts); configureLogging updates it.
  const logger = Object.assign(log, { enabled: s.enabled, namespace });
  s.loggers.push(logger);
  return logger as Logger;
}

/**
 * Enables namespaces and/or sets the sink at run time (the API form of PWT_DEBUG). Returns the
 * namespaces enabled now.
 */
export function configureLogging(options: LoggingOptions): string[] {
  if (options.namespaces !== undefined) {
    parse(String(options.namespaces));
    for (const [namespace, state] of states) {
      state.enabled = isEnabled(namespace);
      for (const l of state.loggers) l.enabled = state.enabled;
    }
  }
  if (options.sink !== undefined) sink = options.sink ?? undefined;
  return [...new Set<string>([...LOG_NAMESPACES, ...states.keys()])].filter(isEnabled);
}

/**
 * A short, non-secret form of an identifier for logs: the first 4 characters and the length
 * (ICE ufrags are public but pairing them with a full password is not; passwords and keys are
 * never passed to a logger at all).
 */
export function redacted(value: string): string {
  return value.length <= 4 ? `${'*'.repeat(value.length)}` : `${value.slice(0, 4)}…(${value.length})`;
}

const dropLog = createLogger('drop');

/**
 * Drop counters that log each drop (`drop` namespace: `<layer> <reason> (total n)`). When the
 * namespace is off as the counters are created — the usual case — the plain object itself is
 * returned: counting costs what it did. (Enabling `drop` at run time applies to objects created
 * afterwards, i.e. new connections.)
 */
export function loggedDropCounters<T extends object>(layer: string, counters: T): T {
  if (!dropLog.enabled) return counters;
  return new Proxy(counters, {
    set(target, key, value: unknown) {
      const ok = Reflect.set(target, key, value);
      if (typeof key === 'string' && typeof value === 'number') dropLog('%s %s (total %d)', layer, key, value);
      return ok;
    },
  });
}
