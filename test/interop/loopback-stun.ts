// A STUN Binding server on 127.0.0.1 (RFC 8489 §5: answers XOR-MAPPED-ADDRESS) for peers that
// always gather server-reflexive candidates (werift 0.24 falls back to a public server otherwise).
import { createSocket } from 'node:dgram';
import { StunAttr, StunClass, StunMethod } from '../../lib/ice/stun-constants.js';
import { StunMessage } from '../../lib/ice/stun-message.js';

/** A running loopback STUN server. */
export interface LoopbackStun {
  /** `stun:127.0.0.1:<port>`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the server on an ephemeral port. */
export async function startLoopbackStun(): Promise<LoopbackStun> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const decoded = StunMessage.decode(msg);
    if (!decoded.ok || decoded.message.method !== StunMethod.Binding || decoded.message.messageClass !== StunClass.Request) return;
    const reply = new StunMessage(StunMethod.Binding, StunClass.SuccessResponse, decoded.message.transactionId)
      .addAddress(StunAttr.XorMappedAddress, { address: rinfo.address, port: rinfo.port });
    socket.send(reply.encode({ fingerprint: true }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    url: `stun:127.0.0.1:${socket.address().port}`,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
