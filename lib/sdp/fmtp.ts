// Format-specific parameters: the `a=fmtp:<pt> <params>` value as `key=value;...` (RFC 8866 §6.15).

/**
 * Parses an fmtp parameter string. Parameters are separated by `;` (optional spaces around);
 * a token without `=` (RED's `111/111`, telephone-event's `0-16`) becomes a key whose value is ''.
 * Later duplicates win. Keys keep their case; compare them with {@link fmtpGet}.
 */
export function parseFmtp(config: string): Record<string, string> {
  const entries: Array<[string, string]> = [];
  for (const raw of config.split(';')) {
    const token = raw.trim();
    if (token.length === 0) continue;
    const eq = token.indexOf('=');
    if (eq <= 0) entries.push([token, '']);
    else entries.push([token.slice(0, eq).trim(), token.slice(eq + 1).trim()]);
  }
  // fromEntries defines own properties, so a key such as "__proto__" cannot touch the prototype.
  return Object.fromEntries(entries);
}

/** Formats parameters back to `k=v;k2=v2` (a key with value '' is written alone). */
export function formatFmtp(parameters: Readonly<Record<string, string>>): string {
  // A loop over the keys: no entry array per parameter and no array pattern (an iterator each in cold code).
  let text = '';
  const keys = Object.keys(parameters);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = parameters[k]!;
    if (i > 0) text += ';';
    text += v === '' ? k : `${k}=${v}`;
  }
  return text;
}

/** Looks a parameter up by name, ignoring case (MIME parameter names are case-insensitive, RFC 6838 §4.3). */
export function fmtpGet(parameters: Readonly<Record<string, string>>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(parameters)) if (k.toLowerCase() === lower) return v;
  return undefined;
}
