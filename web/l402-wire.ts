import type macaroon from 'macaroon';

/**
 * The wire forms of L402 (see `web/l402.ts`): the route configuration, the `Authorization` header, and the
 * version 2 binary encoding of a macaroon.
 */

/** A priced route: an exact `path`, or a `prefix` (configured as "PREFIX*"). */
export type L402Route =
  | { pattern: string; path: string; priceMsats: number }
  | { pattern: string; prefix: string; priceMsats: number };

/** A route pattern: a path, which may end in "*" (a prefix). */
export const ROUTE_PATTERN = /^\/[^\s*]*\*?$/;
const MAX_MACAROON_CHARS = 8192;

/**
 * Parses `payments.l402.routes` ("PATH=MSATS"; a PATH ending in "*" is a prefix). Throws an `Error` naming
 * the entry when one is malformed or a route is listed twice.
 */
export function parseL402Routes(routes: readonly string[]): L402Route[] {
  const out: L402Route[] = [];
  const seen = new Set<string>();
  routes.forEach((entry, i) => {
    const where = `payments.l402.routes[${i}]`;
    if (typeof entry !== 'string') throw new Error(`${where}: must be a string "PATH=MSATS"`);
    const eq = entry.lastIndexOf('=');
    if (eq < 0) throw new Error(`${where} "${entry}": must be "PATH=MSATS", e.g. "/api/status=1000" (msats)`);
    const pattern = entry.slice(0, eq);
    const price = entry.slice(eq + 1);
    if (!ROUTE_PATTERN.test(pattern))
      throw new Error(
        `${where} "${entry}": the path must start with "/", hold no spaces, and may end in "*" (a prefix) but hold no other "*"`,
      );
    if (!/^[1-9][0-9]*$/.test(price) || !Number.isSafeInteger(Number(price)))
      throw new Error(`${where} "${entry}": the price must be a positive whole number of msats`);
    if (seen.has(pattern)) throw new Error(`${where} "${entry}": the route ${pattern} is listed twice`);
    seen.add(pattern);
    const priceMsats = Number(price);
    out.push(
      pattern.endsWith('*')
        ? { pattern, prefix: pattern.slice(0, -1), priceMsats }
        : { pattern, path: pattern, priceMsats },
    );
  });
  return out;
}

/** Whether `path` falls under a route pattern ("/a/b" exactly, or "/a/*" as a prefix). */
export function routeMatches(pattern: string, path: string): boolean {
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern;
}

export type L402Credential =
  | { kind: 'none' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'token'; macaroon: string; preimage: string };

/**
 * Reads an `Authorization` header: `L402 <base64 macaroon>:<hex preimage>` (or the legacy `LSAT` scheme,
 * either case-insensitive). Another scheme, or no header, is `none`: the request simply carries no L402
 * credential. Only one macaroon is accepted (this server mints no third-party caveats to discharge).
 */
export function parseL402Authorization(header: string | undefined): L402Credential {
  if (header === undefined) return { kind: 'none' };
  const text = header.trim();
  const space = text.search(/\s/);
  const scheme = (space < 0 ? text : text.slice(0, space)).toUpperCase();
  if (scheme !== 'L402' && scheme !== 'LSAT') return { kind: 'none' };
  const credentials = space < 0 ? '' : text.slice(space).trim();
  if (credentials === '') return { kind: 'invalid', reason: `no credentials after "${scheme}"` };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\s\x00-\x1f\x7f]/.test(credentials))
    return { kind: 'invalid', reason: 'the credentials hold spaces or control characters' };
  const parts = credentials.split(':');
  if (parts.length !== 2)
    return { kind: 'invalid', reason: 'expected "<base64 macaroon>:<hex preimage>" with a single ":"' };
  const [mac = '', preimage = ''] = parts;
  if (mac.includes(','))
    return { kind: 'invalid', reason: 'only one macaroon is accepted (no discharge macaroons)' };
  if (mac === '' || mac.length > MAX_MACAROON_CHARS || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(mac))
    return { kind: 'invalid', reason: 'the macaroon is not base64' };
  if (!/^[0-9a-fA-F]{64}$/.test(preimage))
    return { kind: 'invalid', reason: 'the preimage must be 64 hex characters (32 bytes)' };
  return { kind: 'token', macaroon: mac, preimage: preimage.toLowerCase() };
}

/**
 * Standard base64 of a macaroon's version 2 binary form, built from the library's accessors. The library's
 * own `exportBinary` (3.0.4) doubles its buffer on every append (`ByteBuffer._grow` compares against a
 * `_capacity` that is never set), so exporting a macaroon with two caveats allocates 200 MB and one with four
 * throws; the encoding itself is simple and the tests compare it byte for byte with `exportBinary`.
 */
export function encodeMacaroon(m: macaroon.Macaroon): string {
  const parts: Buffer[] = [Buffer.from([2])];
  const field = (type: number, data: Uint8Array): void => {
    parts.push(Buffer.from([type]), uvarint(data.length), Buffer.from(data));
  };
  const EOS = Buffer.from([0]);
  if (m.location) field(1, Buffer.from(m.location, 'utf8'));
  field(2, m.identifier);
  parts.push(EOS);
  for (const c of m.caveats) {
    if ('vid' in c && c.location) field(1, Buffer.from(c.location, 'utf8'));
    field(2, c.identifier);
    if ('vid' in c) field(4, c.vid);
    parts.push(EOS);
  }
  parts.push(EOS);
  field(6, m.signature);
  return Buffer.concat(parts).toString('base64');
}

function uvarint(n: number): Buffer {
  const out: number[] = [];
  let x = n;
  while (x >= 0x80) {
    out.push((x & 0x7f) | 0x80);
    x = Math.floor(x / 128);
  }
  out.push(x);
  return Buffer.from(out);
}
