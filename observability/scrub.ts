/**
 * The last guard against a secret in a log line: whatever field or message it hides in, a known secret
 * value, an nsec key, an ncryptsec and the `secret=` of a Nostr Wallet Connect string become `[redacted]`.
 * pino's `redact` paths (logger.ts) cover the fields by name; this covers values that slipped into text.
 */

const CENSOR = '[redacted]';

/** bech32 nsec and ncryptsec keys, and an NWC URI's secret parameter. */
const PATTERNS: readonly RegExp[] = [
  /\bnsec1[02-9ac-hj-np-z]{20,}/gi,
  /\bncryptsec1[02-9ac-hj-np-z]{20,}/gi,
  /(nostr\+walletconnect:\/\/[^\s"]*?[?&]secret=)[^&\s"\\]+/gi,
];

/** Known values shorter than this are not scrubbed (too likely to match ordinary text). */
const MIN_SECRET_LENGTH = 6;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A function that scrubs one line (JSON or not) of the given secret values and of the patterns above. */
export function scrubSecrets(secrets: readonly string[]): (line: string) => string {
  const values = new Set<string>();
  for (const s of secrets) {
    if (s.length < MIN_SECRET_LENGTH) continue;
    values.add(s);
    // As it reads inside a JSON string.
    values.add(JSON.stringify(s).slice(1, -1));
  }
  const known =
    values.size > 0
      ? new RegExp(
          [...values]
            .sort((a, b) => b.length - a.length)
            .map(escapeRegExp)
            .join('|'),
          'g',
        )
      : undefined;
  return (line) => {
    let out = known ? line.replace(known, CENSOR) : line;
    for (const p of PATTERNS)
      out = out.replace(p, (_m: string, keep: unknown) =>
        typeof keep === 'string' ? `${keep}${CENSOR}` : CENSOR,
      );
    return out;
  };
}
