// The only module that loads the native addon (node-gyp-build: build/Release first, then prebuilds/).
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What every build of the addon exports, whatever components it holds. */
export interface NativeAddonBase {
  /** sha-256 prefix of the native sources the binary was built from. */
  readonly sourceHash: string;
  /** OPENSSL_VERSION_TEXT of the headers the binary was compiled against. */
  readonly opensslHeaders: string;
}

let cached: (NativeAddonBase & Record<string, unknown>) | undefined;

/** The package root (holds package.json named pure-webrtc-transport), from src or dist. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'pure-webrtc-transport') return dir;
      } catch {
        // an unreadable package.json is not ours; keep walking up
      }
    }
    dir = dirname(dir);
  }
  throw new Error('pure-webrtc-transport: package root not found');
}

/** Loads (once) and returns the native addon. */
export function loadAddon(): NativeAddonBase & Record<string, unknown> {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  // PWT_ADDON_PATH names an explicit binary (a second build tree); otherwise node-gyp-build
  // picks build/Release, then a fitting prebuild.
  const explicit = process.env.PWT_ADDON_PATH;
  if (explicit) {
    cached = require(explicit) as NativeAddonBase & Record<string, unknown>;
    return cached;
  }
  const load = require('node-gyp-build') as (dir: string) => unknown;
  cached = load(packageRoot()) as NativeAddonBase & Record<string, unknown>;
  return cached;
}

/** Which native build is loaded: its source hash and the OpenSSL headers it was compiled against. */
export interface NativeBuildInfo {
  readonly sourceHash: string;
  readonly opensslHeaders: string;
}

/**
 * Loads the addon (once) and says which build it is (the public face of the addon: the raw
 * native module itself is not exported, docs/native-build.md).
 */
export function nativeBuildInfo(): NativeBuildInfo {
  const addon = loadAddon();
  return { sourceHash: addon.sourceHash, opensslHeaders: addon.opensslHeaders };
}

/**
 * The file the addon loads from (PWT_ADDON_PATH, build/Release, or a fitting prebuild): for
 * worker threads and child processes that load it without this module.
 */
export function addonPath(): string {
  const explicit = process.env.PWT_ADDON_PATH;
  if (explicit) return explicit;
  const require = createRequire(import.meta.url);
  const load = require('node-gyp-build') as { path(dir: string): string };
  return load.path(packageRoot());
}

/** One named export of the addon, typed by the caller's lib/native wrapper. */
export function nativeExport<T>(name: string): T {
  const value = loadAddon()[name];
  if (value === undefined) throw new Error(`pure-webrtc-transport: the native addon has no export '${name}' (stale build? run npm run build:native)`);
  return value as T;
}
