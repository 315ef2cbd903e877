// Child of ice-tcp-udp-blocked.test.ts, run inside a network namespace where nftables drops every
// UDP packet: our echo server (answers with its UDP host candidate AND the passive TCP candidate
// of a TcpMux port), Chromium opening the real echo page. Prints one JSON line with what it saw.
import { execFileSync } from 'node:child_process';
import { startEchoServer } from '../../lib/echo/echo-server.js';
import { TcpMux } from '../../lib/transport/source/tcp-mux.js';
import { launchChromium } from '../interop/chromium.js';

const result: Record<string, unknown> = {};
const mux = await TcpMux.listen({ address: '127.0.0.1' });
const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'], tcpMux: mux });
const browser = await launchChromium();
try {
  const page = await browser.context.newPage();
  await page.goto(server.url);
  await page.waitForFunction("['connected', 'failed', 'rejected', 'error'].includes(window.pwtEcho && window.pwtEcho.state)", undefined, { timeout: 30_000 });
  result.state = await page.evaluate('pwtEcho.state');
  result.answerCandidates = String(await page.evaluate('pwtEcho.pc.remoteDescription.sdp')).split('\r\n').filter((l) => l.startsWith('a=candidate:'));
  const inbound = async (): Promise<Record<string, number>> => (await page.evaluate(`(async () => {
    const out = {}; (await pwtEcho.pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp') out[s.kind] = s.packetsReceived; }); return out;
  })()`)) as Record<string, number>;
  await page.waitForTimeout(2000);
  const first = await inbound();
  await page.waitForTimeout(1500);
  result.inboundFirst = first;
  result.inboundSecond = await inbound();
  result.selected = await page.evaluate(`(async () => {
    const stats = await pwtEcho.pc.getStats(); let id;
    stats.forEach((s) => { if (s.type === 'transport') id = s.selectedCandidatePairId; });
    const pair = stats.get(id);
    return pair ? stats.get(pair.localCandidateId).protocol + '/' + stats.get(pair.remoteCandidateId).protocol : 'none';
  })()`);
  result.messages = await page.evaluate('pwtEcho.runMessageTest()');
  result.tcpMux = mux.stats;
  // What nftables dropped: Chromium's UDP checks towards our UDP candidate (and everything else UDP).
  result.nft = execFileSync('nft', ['list', 'table', 'inet', 'tcp-soak-udp-block']).toString();
} catch (err) {
  result.error = err instanceof Error ? err.message : String(err);
} finally {
  await browser.close();
  await server.close();
  mux.close();
}
console.log(`RESULT ${JSON.stringify(result)}`);
