// Launches Debian's Chromium through playwright-core with the flags these offline, loopback-only
// machines need: fake media devices, loopback ICE, no DNS (each flag below says why).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** The browser binary the interop tests drive. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Why the Chromium tests skip (no browser installed, or PWT_SKIP_BROWSER=1), or false when they run. */
export const SKIP_CHROMIUM: string | false =
  !existsSync(CHROMIUM_PATH) || process.env.PWT_SKIP_BROWSER === '1' ? `no ${CHROMIUM_PATH} (or PWT_SKIP_BROWSER=1)` : false;

/**
 * No DNS look-ups: Chromium resolves Google hosts at start even with background networking off;
 * everything but 127.0.0.1 and localhost resolves to nothing.
 */
export const NO_DNS = '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost';

/** A launched browser context and how to dispose of it. */
export interface ChromiumHandle {
  readonly context: BrowserContext;
  readonly version: string;
  close(): Promise<void>;
}

/**
 * The media tests' launch: {@link launchChromiumPage} with fake camera and microphone (granted unless
 * `mediaPermission: false`), autoplay and no DNS. Without the media permission pages have none, and
 * Chromium hides host addresses behind mDNS names. `close()` never throws.
 */
export async function launchChromium(options: { mediaPermission?: boolean } = {}): Promise<ChromiumHandle> {
  const launched = await launchChromiumPage('pwt-chromium-', [
    '--use-fake-device-for-media-stream',
    ...(options.mediaPermission === false ? [] : ['--use-fake-ui-for-media-stream']),
    '--autoplay-policy=no-user-gesture-required', NO_DNS,
  ]);
  const version = launched.context.browser()?.version() ?? (await versionFromPage(launched.page));
  return {
    context: launched.context,
    version,
    close: () => launched.close().catch(() => {}),
  };
}

async function versionFromPage(page: Page): Promise<string> {
  const ua = String(await page.evaluate('navigator.userAgent'));
  return /Chrome\/([\d.]+)/.exec(ua)?.[1] ?? 'unknown';
}

/** The flags every Chromium test on this offline, loopback-only machine starts with. */
const BASE_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection',
];

/** A launched Chromium's context, its first page, and how to dispose of both. */
export interface ChromiumPage {
  readonly context: BrowserContext;
  readonly page: Page;
  close(): Promise<void>;
}

/**
 * Starts headless Chromium (60 s launch timeout) with the base flags and `extraArgs`, in a fresh
 * profile (a temp directory whose name starts with `profilePrefix`); `close()` closes it and removes the profile.
 */
export async function launchChromiumPage(profilePrefix: string, extraArgs: readonly string[]): Promise<ChromiumPage> {
  const profile = mkdtempSync(join(tmpdir(), profilePrefix));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      timeout: 60_000,
      args: [...BASE_ARGS, ...extraArgs],
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close(): Promise<void> {
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}
