// The HMAC keys of an ICE agent's short-term credentials (RFC 8489 §9.1.1: the key is the password's
// bytes), made once per password instead of once per check or request (docs/architecture.md).

/** Keys of the last two passwords used (ours and the peer's), each made once. */
export class PasswordKeys {
  private passwordA: string | undefined;
  private keyA: Buffer | undefined;
  private passwordB: string | undefined;
  private keyB: Buffer | undefined;

  /** The key of `password`, cached; the buffer is shared and must not be written. */
  of(password: string): Buffer {
    if (password === this.passwordA) return this.keyA!;
    if (password === this.passwordB) {
      // Most recent first, so the two credentials in use stay cached.
      const p = this.passwordB;
      const k = this.keyB!;
      this.passwordB = this.passwordA;
      this.keyB = this.keyA;
      this.passwordA = p;
      this.keyA = k;
      return k;
    }
    const key = Buffer.from(password, 'utf8');
    this.passwordB = this.passwordA;
    this.keyB = this.keyA;
    this.passwordA = password;
    this.keyA = key;
    return key;
  }
}
