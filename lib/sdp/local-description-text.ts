// The SDP text of a local description kept in parts, so that writing gathered candidates into it
// (RFC 8829 §5.2.1 default candidate, RFC 8840 trickle, RFC 8839 §5.1 candidate lines) serializes
// again only the lines that change, not the whole description (docs/sdp.md "Serializing").
import type { SdpSessionDescription } from './model.js';
import { serializeSectionTail, serializeSectionTransportPart, serializeSessionPart } from './serialize.js';

/**
 * The text of one local description as session lines plus, per m-section, its lines after the
 * ICE/DTLS attributes (`a=mid` onwards), made once; `serialize` writes the lines
 * lib/sdp/local-sections.ts `applyTransport` changes (`m=` port, `c=`, candidates,
 * end-of-candidates, ICE/DTLS attributes) fresh and joins the rest. The result is byte for byte
 * what {@link serializeSdp} gives (test/unit/sdp/local-description-text.test.ts).
 *
 * Valid while the description changes only through `applyTransport`, which is how lib/peer edits
 * a local description after making it; anything else (another m-section count, a changed codec or
 * session line) needs a new instance.
 */
/**
 * Matches at once; running it makes V8 flatten the subject in place (a regular expression reads
 * only flat strings): the concatenation tree of a serialized part (one 32-byte node per `+`, about
 * 45 per description) becomes one string, and the tree's nodes garbage.
 */
const FLATTEN = /^/;

/** `s`, flattened (see FLATTEN). */
function flat(s: string): string {
  FLATTEN.test(s);
  return s;
}

export class LocalDescriptionText {
  private readonly session: string;
  private readonly tails: readonly string[];

  /** Serializes the parts of `desc` that `applyTransport` does not write. */
  constructor(desc: SdpSessionDescription) {
    // Kept until the description is compacted (and, during a burst of negotiations, copied by
    // every young-generation collection until then): flat, not as concatenation trees.
    this.session = flat(serializeSessionPart(desc));
    this.tails = desc.media.map((m) => flat(serializeSectionTail(m)));
  }

  /**
   * The SDP text of `desc`: the description these parts were made from, as `applyTransport` left
   * it. An m-section count other than the one the parts were made from throws a RangeError (a
   * misuse in lib/peer, never network input).
   */
  serialize(desc: SdpSessionDescription): string {
    const media = desc.media;
    if (media.length !== this.tails.length) {
      throw new RangeError(`LocalDescriptionText: made for ${this.tails.length} m-sections, asked for ${media.length}`);
    }
    let s = this.session;
    for (let i = 0; i < media.length; i++) s += serializeSectionTransportPart(media[i]!) + this.tails[i]!;
    return s;
  }
}
