// Typed errors for SDP input: a malformed line (SyntaxError) or a description JSEP cannot apply
// (InvalidAccessError, RFC 8829 §5.8 / W3C setRemoteDescription). Both carry a stable `code`.
import { PwtError } from '../common/errors.js';

/** Stable codes of {@link SdpSyntaxError}. */
export type SdpSyntaxErrorCode =
  | 'ERR_SDP_NOT_A_STRING'
  | 'ERR_SDP_TOO_LARGE'
  | 'ERR_SDP_EMPTY'
  | 'ERR_SDP_BAD_LINE'
  | 'ERR_SDP_BAD_VERSION'
  | 'ERR_SDP_MISSING_ORIGIN'
  | 'ERR_SDP_BAD_ORIGIN'
  | 'ERR_SDP_BAD_TIMING'
  | 'ERR_SDP_BAD_CONNECTION'
  | 'ERR_SDP_BAD_BANDWIDTH'
  | 'ERR_SDP_BAD_MEDIA_LINE'
  | 'ERR_SDP_BAD_ATTRIBUTE';

/** Stable codes of {@link SdpInvalidAccessError}. */
export type SdpInvalidAccessErrorCode =
  | 'ERR_SDP_MISSING_MID'
  | 'ERR_SDP_DUPLICATE_MID'
  | 'ERR_SDP_BUNDLE_UNKNOWN_MID'
  | 'ERR_SDP_BUNDLE_MID_TWICE'
  | 'ERR_SDP_MISSING_ICE_CREDENTIALS'
  | 'ERR_SDP_BAD_ICE_CREDENTIALS'
  | 'ERR_SDP_M_SECTION_REMOVED'
  | 'ERR_SDP_M_SECTION_ADDED'
  | 'ERR_SDP_M_SECTION_KIND_CHANGED'
  | 'ERR_SDP_TOO_MANY_TRANSPORTS'
  | 'ERR_SDP_MISSING_FINGERPRINT'
  | 'ERR_SDP_BAD_SETUP'
  | 'ERR_SDP_BAD_LOCAL_PARAMETERS';

/**
 * Thrown by {@link parseSdp} for text that is not valid SDP. `lineNumber` (1-based) and `line`
 * name the offending line when there is one.
 */
export class SdpSyntaxError extends PwtError {
  /** 1-based number of the offending line, 0 when the error is about the whole text. */
  readonly lineNumber: number;
  /** The offending line (truncated to 200 characters), empty when there is none. */
  readonly line: string;

  constructor(code: SdpSyntaxErrorCode, message: string, lineNumber = 0, line = '') {
    const shown = line.length > 200 ? `${line.slice(0, 200)}...` : line;
    super('SyntaxError', code, lineNumber > 0 ? `SDP line ${lineNumber} "${shown}": ${message}` : `SDP: ${message}`);
    this.lineNumber = lineNumber;
    this.line = shown;
  }
}

/**
 * Thrown by the JSEP functions for a well-formed description that cannot be used (missing ICE
 * credentials, unknown BUNDLE mid, ...), and for local parameters that make no valid description.
 */
export class SdpInvalidAccessError extends PwtError {
  constructor(code: SdpInvalidAccessErrorCode, message: string) {
    super('InvalidAccessError', code, message);
  }
}
