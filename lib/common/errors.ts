// Typed errors for API misuse: a DOMException-style `name` and a stable `code`.
// Network input never throws (docs/architecture.md, Principles): it is dropped and counted instead.

/** The DOMException-style error names this package throws. */
export type PwtErrorName =
  | 'InvalidStateError'
  | 'InvalidAccessError'
  | 'InvalidModificationError'
  | 'OperationError'
  | 'SyntaxError'
  | 'TypeError'
  | 'RangeError'
  | 'NotSupportedError'
  | 'NetworkError'
  | 'DataError'
  | 'OperationAbortedError';

/** Base class of every error this package throws on purpose. */
export class PwtError extends Error {
  /** DOMException-style name, e.g. `InvalidStateError`. */
  override readonly name: PwtErrorName;
  /** Stable machine-readable code, e.g. `ERR_UDP_ADDRESS_IN_USE`. */
  readonly code: string;

  constructor(name: PwtErrorName, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
    this.code = code;
  }
}

/** Thrown when an object is used in a state that does not allow the call (e.g. after close). */
export class InvalidStateError extends PwtError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super('InvalidStateError', code, message, options);
  }
}

/** Thrown for an argument of the wrong type or shape. */
export class InvalidArgumentError extends PwtError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super('TypeError', code, message, options);
  }
}

/** Thrown for a numeric argument outside its allowed range. */
export class OutOfRangeError extends PwtError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super('RangeError', code, message, options);
  }
}

/** Thrown when the operating system or a lower layer refuses an operation. */
export class OperationError extends PwtError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super('OperationError', code, message, options);
  }
}
