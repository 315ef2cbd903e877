// The server side of the Chromium automatic-layer test (test/net/sfu-chromium-auto-layers.test.ts),
// run in its own network namespace: the `sfu` room server (lib/room) on `address`; it prints its
// URL, then twice a second what the engine sends each automatic video consumer (spatial layer now,
// the target and why) and every target change (docs/sfu.md "Automatic layer selection").
import { startRoomServer } from '../../lib/room/index.js';
import type { Consumer } from '../../lib/sfu/index.js';
import { childSignalling } from './child-signalling.js';

const [address, durationArg] = process.argv.slice(2);
const durationMs = Number(durationArg ?? 120_000);
const { say, next } = childSignalling(durationMs);

async function main(): Promise<void> {
  // 640x360 publishers: simulcast layers of 160, 320 and 640 px.
  const server = await startRoomServer({ port: 0, host: address!, connectTimeoutMs: 30_000, page: { width: 640, height: 360, frameRate: 15, simulcast: true } });
  say({ type: 'url', url: server.url });
  const watched = new Set<Consumer>();
  const timer = setInterval(() => {
    for (const room of server.rooms.values()) {
      for (const member of room.members.values()) {
        for (const [from, subscription] of member.subscriptions) {
          for (const c of subscription.consumers) {
            if (c.kind !== 'video' || !c.autoLayers) continue;
            if (!watched.has(c)) {
              watched.add(c);
              c.on('targetlayerschange', (t) => say({ type: 'target', viewer: member.id, from, spatialLayer: t.spatialLayer, reason: t.reason, estimateBps: t.estimateBps ?? null, bitrateBps: t.bitrateBps }));
            }
            say({ type: 'status', viewer: member.id, from, spatialLayer: c.currentLayers?.spatialLayer ?? null, target: c.targetLayers.spatialLayer });
          }
        }
      }
    }
  }, 500);
  await next();
  clearInterval(timer);
  say({ type: 'done', jsDeliveries: server.router.stats.jsDeliveries });
  await server.close();
  // stdin stays open (the test may still write to it): exit now rather than when the test kills us.
  process.exit(0);
}

main().catch((err: unknown) => {
  say({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) });
  process.exit(1);
});
