// Test driver over real sockets: two DataChannelManagers, each over our DtlsTransport over our
// native UdpSocket on 127.0.0.1, driven by real timers (the data path a peer connection will use).
import { performance } from 'node:perf_hooks';
import { DtlsCertificate } from '../../../lib/dtls/dtls-certificate.js';
import { DtlsTransport } from '../../../lib/dtls/dtls-transport.js';
import { UdpSocket, type UdpDestination, type UdpSocketOptions } from '../../../lib/transport/source/udp-socket.js';
import { SctpAssociation, type SctpAssociationOptions } from '../../../lib/sctp/association.js';
import { DataChannelManager } from '../../../lib/sctp/data-channel-manager.js';

interface Side {
  sock: UdpSocket;
  dtls: DtlsTransport;
  mgr: DataChannelManager;
  dest: UdpDestination;
  timer: NodeJS.Timeout | undefined;
  timerAt: number;
  scheduled: boolean;
}

/** A connected (DTLS up, SCTP connecting) pair; `a` is the DTLS client. */
export class UdpDtlsPair {
  readonly a: DataChannelManager;
  readonly b: DataChannelManager;
  private readonly sides: Side[];

  /** `socket` adds options (e.g. buffer sizes, for benchmarks) to both UDP sockets. */
  constructor(opts: SctpAssociationOptions = {}, socket: Partial<UdpSocketOptions> = {}) {
    const clock = { now: () => performance.now() };
    const certA = DtlsCertificate.generate();
    const certB = DtlsCertificate.generate();
    const sockA = UdpSocket.bindSync({ ...socket, type: 'udp4', address: '127.0.0.1' });
    const sockB = UdpSocket.bindSync({ ...socket, type: 'udp4', address: '127.0.0.1' });
    const make = (sock: UdpSocket, peer: UdpSocket, role: 'client' | 'server', cert: DtlsCertificate, remote: DtlsCertificate): Side => ({
      sock,
      dtls: new DtlsTransport({ certificate: cert, role, remoteFingerprints: remote.getFingerprints(), srtpProfiles: [] }),
      mgr: new DataChannelManager(new SctpAssociation(opts), { clock, role }),
      dest: sock.destination(peer.address().port, '127.0.0.1'),
      timer: undefined,
      timerAt: Infinity,
      scheduled: false,
    });
    const A = make(sockA, sockB, 'client', certA, certB);
    const B = make(sockB, sockA, 'server', certB, certA);
    this.sides = [A, B];
    this.a = A.mgr;
    this.b = B.mgr;
    for (const s of this.sides) {
      s.sock.onBatch((batch) => {
        const list: Buffer[] = [];
        for (let i = 0; i < batch.count; i++) list.push(batch.data(i));
        s.dtls.handleInput(performance.now(), list);
        this.drive(s);
      });
      s.mgr.on('wakeup', () => {
        if (s.scheduled) return;
        s.scheduled = true;
        queueMicrotask(() => this.drive(s));
      });
    }
    B.dtls.start(performance.now());
    A.dtls.start(performance.now());
    this.drive(A);
    this.drive(B);
  }

  private drive(s: Side): void {
    s.scheduled = false;
    const now = performance.now();
    for (let round = 0; round < 64; round++) {
      let progressed = false;
      for (let e = s.dtls.pollEvent(); e; e = s.dtls.pollEvent()) {
        progressed = true;
        if (e.type === 'data') for (const r of e.records) s.mgr.handleInput(now, r);
        else if (e.type === 'statechange' && e.state === 'connected' && s === this.sides[0]) s.mgr.association.connect(now);
      }
      if (s.dtls.state === 'connected') {
        const records: Buffer[] = [];
        for (let p = s.mgr.pollTransmit(); p; p = s.mgr.pollTransmit()) records.push(p);
        if (records.length) {
          s.dtls.send(records);
          progressed = true;
        }
      }
      for (let d = s.dtls.pollTransmit(); d; d = s.dtls.pollTransmit()) s.sock.sendTo(d, s.dest);
      if (!progressed) break;
    }
    // Re-arm only when the deadline moved: a timer per received batch would dominate the cost.
    const t = Math.min(s.mgr.pollTimeout() ?? Infinity, s.dtls.pollTimeout() ?? Infinity);
    if (t === s.timerAt) return;
    if (s.timer) clearTimeout(s.timer);
    s.timerAt = t;
    s.timer = Number.isFinite(t)
      ? setTimeout(() => {
          const n = performance.now();
          s.timerAt = Infinity;
          s.timer = undefined;
          s.mgr.handleTimeout(n);
          s.dtls.handleTimeout(n);
          this.drive(s);
        }, Math.max(0, t - performance.now()))
      : undefined;
  }

  /** Stops timers and closes sockets. */
  close(): void {
    for (const s of this.sides) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      s.dtls.close();
      s.sock.close();
    }
  }
}
