// Debug logging, off unless PWT_DEBUG names the component (e.g. PWT_DEBUG=ice,dtls or PWT_DEBUG=*).
import { debuglog } from 'node:util';

const enabled = new Set((process.env.PWT_DEBUG ?? '').split(',').map((s) => s.trim()).filter(Boolean));

/** A logger for one component; the returned function is a no-op unless enabled. */
export type Logger = (message: string, ...args: unknown[]) => void;

/** Returns the debug logger for `component` (enabled by PWT_DEBUG or NODE_DEBUG=pwt-<component>). */
export function createLogger(component: string): Logger {
  if (enabled.has('*') || enabled.has(component)) {
    return (message, ...args) => console.error(`[pwt:${component}] ${message}`, ...args);
  }
  return debuglog(`pwt-${component}`);
}
