// One "host" of the cascade test (test/net/cascade.test.ts), run inside its network namespace with
// `ip netns exec`: a router on the namespace's veth address, one pipe transport, and a Chromium of
// its own. Role `origin`: a Chromium page publishes its camera into the router and the producer is
// consumed into the pipe. Role `edge`: the pipe's producer is consumed by two Chromium subscriber
// pages, which must decode it. The parent relays the pipe parameters and the stream description
// (JSON lines: `MSG {...}` on stdout, commands on stdin); nothing else crosses between the hosts.
import { createInterface } from 'node:readline';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { Router, type PipeParameters, type PlainRtpStream, type Producer } from '../../lib/sfu/index.js';
import { launchChromium } from '../interop/chromium.js';
import { chromiumPublisher, chromiumSubscriber, pageVideoStats, setUpSfuPage, untilPage } from '../integration/sfu-browser.js';

const role = process.argv[2] as 'origin' | 'edge';
const ip = process.argv[3]!;
const frames = Number(process.argv[4] ?? 30);

function say(m: object): void {
  process.stdout.write(`MSG ${JSON.stringify(m)}\n`);
}

const lines = createInterface({ input: process.stdin });
const inbox: Record<string, unknown>[] = [];
let wake: (() => void) | null = null;
lines.on('line', (l) => {
  inbox.push(JSON.parse(l) as Record<string, unknown>);
  wake?.();
});
async function receive(key: string): Promise<Record<string, unknown>> {
  for (;;) {
    const i = inbox.findIndex((m) => key in m);
    if (i >= 0) return inbox.splice(i, 1)[0]!;
    await new Promise<void>((r) => (wake = r));
  }
}

const browser = await launchChromium();
const mux = await UdpMux.bind({ address: ip });
const router = Router.create(mux);
const pipe = router.createPipeTransport({ listenIp: ip, srtp: true });
try {
  say({ pipe: pipe.getLocalParameters() });
  pipe.connect((await receive('pipe')).pipe as PipeParameters);
  const page = await browser.context.newPage();
  await setUpSfuPage(page);
  if (role === 'origin') {
    const pub = await chromiumPublisher(page, mux, 0);
    const producer: Producer = await router.produce(pub.server, pub.transceiver);
    const consumer = pipe.consume(producer);
    say({ stream: pipe.consumerStream(consumer) });
    await receive('done');
    const sent = await pageVideoStats(page);
    say({ result: { role, framesSent: sent[0]?.sent ?? 0, producer: producer.getStats(), pipe: pipe.getStats(), router: router.stats, consumer: consumer.getStats() } });
  } else {
    const stream = (await receive('stream')).stream as PlainRtpStream;
    const producer = pipe.produce(stream);
    const subs = [];
    for (let i = 0; i < 2; i++) {
      const s = await chromiumSubscriber(page, mux, i);
      subs.push(s);
      await router.consume(producer, s.server, s.transceiver);
    }
    const stats = await untilPage(page, (s) => s.length === 2 && s.every((x) => x.decoded >= frames), 60_000, `both subscribers decode ${frames} frames`);
    say({ result: { role, decoded: stats.map((s) => s.decoded), widths: stats.map((s) => s.width), producer: producer.getStats(), pipe: pipe.getStats(), router: router.stats } });
    for (const s of subs) s.server.close();
  }
} catch (err) {
  say({ error: String((err as Error)?.stack ?? err) });
} finally {
  router.close();
  mux.close();
  await browser.close();
  lines.close();
}
