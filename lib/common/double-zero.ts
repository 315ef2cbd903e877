// Zero stored as a double, for number fields on per-packet paths (docs/policy.md "Cost per packet").
// V8 gives an object field the representation of the first number stored in it.

/**
 * -0: stored as a double and adds like 0. A field that starts as a small integer (0) and later
 * holds a fraction or a number beyond ±2^30 (a byte count after a few seconds at a high packet
 * rate, a 32-bit RTP timestamp, a time in ms) makes V8 widen the field; that deprecates the
 * object's shape and deoptimizes every optimized function that reads the object — the per-packet
 * hooks, in the middle of a run. Use it only for fields that are never reported as they are
 * (-0 differs from 0 under Object.is).
 */
export const DOUBLE_ZERO = -0;
