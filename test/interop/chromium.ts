// Launches Debian's Chromium through playwright-core with the flags these offline, loopback-only
// machines need: fake media devices, loopback ICE, no DNS (each flag below says why).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** The browser binary the interop tests drive. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** A launched browser context and how to dispose of it. */
export interface ChromiumHandle {
  readonly context: BrowserContext;
  readonly version: string;
  close(): Promise<void>;
}

/**
 * Starts headless Chromium with a fresh profile; `close()` kills it and removes the profile.
 * `mediaPermission: false` leaves out the flag that grants camera/microphone, so pages have no
 * media permission and Chromium hides host addresses behind mDNS names.
 */
export async function launchChromium(options: { mediaPermission?: boolean } = {}): Promise<ChromiumHandle> {
  const profile = mkdtempSync(join(tmpdir(), 'pwt-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream',
      ...(options.mediaPermission === false ? [] : ['--use-fake-ui-for-media-stream']),
      '--autoplay-policy=no-user-gesture-required', '--allow-loopback-in-peer-connection',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
    ],
  });
  const version = context.browser()?.version() ?? (await versionFromPage(context));
  return {
    context,
    version,
    async close(): Promise<void> {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

async function versionFromPage(context: BrowserContext): Promise<string> {
  const page = await context.newPage();
  const ua = String(await page.evaluate('navigator.userAgent'));
  await page.close();
  return /Chrome\/([\d.]+)/.exec(ua)?.[1] ?? 'unknown';
}
