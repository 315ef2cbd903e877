// The ICE candidate attribute: parse and format `candidate:...` (RFC 8839 §5.1, RFC 6544 §4.5 tcptype).
import type { SdpCandidate } from './model.js';
import { SdpSyntaxError } from './sdp-error.js';

const FOUNDATION = /^[A-Za-z0-9+/]{1,32}$/;
const DIGITS = /^\d{1,10}$/;
const TOKEN = /^[\x21-\x7e]+$/;
// The common form, single spaces and nothing the checks below would refuse but the numbers'
// ranges, read by one expression: the split, filter and eight tests per candidate cost more in
// code that is still interpreted while a connection sets up (docs/peer.md "Setup cost"). Any
// other text takes the field-by-field path, which gives the same candidate or names what is wrong.
const COMMON_CANDIDATE =
  /^([A-Za-z0-9+/]{1,32}) (\d{1,10}) ([\x21-\x7e]+) (\d{1,10}) ([\x21-\x7e]+) (\d{1,5}) typ ([\x21-\x7e]+)((?: [\x21-\x7e]+ [\x21-\x7e]+)*)$/;

/**
 * Parses the value of a candidate attribute. Accepts `candidate:...`, `a=candidate:...` or the
 * bare value after the colon (the forms that trickle signalling carries).
 * @throws SdpSyntaxError (`ERR_SDP_BAD_ATTRIBUTE`) when the text is not a candidate; the error
 *   names `lineNumber`/`line` when given.
 */
export function parseCandidate(text: string, lineNumber = 0, line = text): SdpCandidate {
  const fail = (why: string): never => {
    throw new SdpSyntaxError('ERR_SDP_BAD_ATTRIBUTE', `bad candidate: ${why}`, lineNumber, line);
  };
  let value = text.trim();
  if (value.startsWith('a=')) value = value.slice(2);
  if (value.startsWith('candidate:')) value = value.slice('candidate:'.length);
  const m = COMMON_CANDIDATE.exec(value);
  let candidate: SdpCandidate;
  let rest: string[];
  if (m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 256 && Number(m[4]) <= 0xffffffff && Number(m[6]) <= 65535) {
    candidate = makeCandidate(m[1]!, m[2]!, m[3]!, m[4]!, m[5]!, m[6]!, m[7]!);
    rest = m[8]!.length === 0 ? [] : m[8]!.slice(1).split(' ');
  } else {
    const t = value.split(' ').filter((s) => s.length > 0);
    if (t.length < 8) fail('fewer than 8 fields');
    const [foundation, component, transport, priority, address, port, typ, type] = t as [
      string, string, string, string, string, string, string, string,
    ];
    if (!FOUNDATION.test(foundation)) fail('foundation is not 1-32 ice-chars');
    if (!DIGITS.test(component) || Number(component) < 1 || Number(component) > 256) fail('component is not 1..256');
    if (!TOKEN.test(transport)) fail('bad transport');
    if (!DIGITS.test(priority) || Number(priority) > 0xffffffff) fail('priority is not a 32-bit number');
    if (!TOKEN.test(address)) fail('bad connection address');
    if (!isPort(port)) fail('port is not 0..65535');
    // ABNF literals are case-insensitive (RFC 5234 §2.3): `TYP` is `typ`.
    if (typ.toLowerCase() !== 'typ' || !TOKEN.test(type)) fail('missing "typ <type>"');
    candidate = makeCandidate(foundation, component, transport, priority, address, port, type);
    rest = t.slice(8);
  }
  if (rest.length % 2 !== 0) fail('extension attribute without a value');
  for (let i = 0; i < rest.length; i += 2) {
    const name = rest[i]!;
    const val = rest[i + 1]!;
    const key = name.toLowerCase();
    if (key === 'raddr') candidate.relatedAddress = val;
    else if (key === 'rport') {
      if (!isPort(val)) fail('rport is not 0..65535');
      candidate.relatedPort = Number(val);
    } else if (key === 'tcptype') candidate.tcpType = val.toLowerCase();
    else candidate.extensions.push({ name, value: val });
  }
  return candidate;
}

/** The candidate of checked fields, before its extension attributes (one object shape for every candidate). */
function makeCandidate(foundation: string, component: string, transport: string, priority: string, address: string, port: string, type: string): SdpCandidate {
  return {
    foundation,
    component: Number(component),
    transport: transport.toLowerCase(),
    priority: Number(priority),
    address,
    port: Number(port),
    type: type.toLowerCase(),
    extensions: [],
  };
}

/** Formats a candidate as the attribute value after `a=` (`candidate:...`), RFC 8839 §5.1 order. */
export function formatCandidate(c: SdpCandidate): string {
  let s = `candidate:${c.foundation} ${c.component} ${c.transport} ${c.priority} ${c.address} ${c.port} typ ${c.type}`;
  if (c.relatedAddress !== undefined) s += ` raddr ${c.relatedAddress}`;
  if (c.relatedPort !== undefined) s += ` rport ${c.relatedPort}`;
  if (c.tcpType !== undefined) s += ` tcptype ${c.tcpType}`;
  for (let i = 0; i < c.extensions.length; i++) {
    const e = c.extensions[i]!;
    s += ` ${e.name} ${e.value}`;
  }
  return s;
}

function isPort(s: string): boolean {
  return /^\d{1,5}$/.test(s) && Number(s) <= 65535;
}
