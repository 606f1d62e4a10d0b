import { parsePubkey } from './nip19.ts';

/**
 * NIP-05 both ways: the `/.well-known/nostr.json` document this instance serves for its agents
 * (`timmy@<domain>`), and checking someone else's `name@domain` against a pubkey.
 */

export interface NostrJson {
  /** name → lowercase hex pubkey. */
  names: Record<string, string>;
  /** hex pubkey → relay URLs (left out when empty). */
  relays?: Record<string, string[]>;
}

/** Response headers NIP-05 asks for: JSON, and CORS open so browser clients can verify. */
export const NOSTR_JSON_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  'access-control-allow-origin': '*',
};

export class Nip05Error extends Error {
  constructor(detail: string) {
    super(`NIP-05: ${detail}`);
    this.name = 'Nip05Error';
  }
}

const NAME_RE = /^[a-z0-9._-]+$/;
const DOMAIN_RE = /^[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$/;

export function isValidNip05Name(name: string): boolean {
  return typeof name === 'string' && name.length <= 255 && NAME_RE.test(name);
}

/**
 * The nostr.json document for a set of agents. Every agent gets the same relay list (the instance's
 * relay). Names must be lowercase a-z0-9-_. and unique; pubkeys may be hex or npub and come out as hex.
 */
export function buildNostrJson(
  agents: readonly { name: string; pubkey: string }[],
  relays: readonly string[] = [],
): NostrJson {
  const names: Record<string, string> = {};
  for (const a of agents) {
    if (!isValidNip05Name(a.name)) {
      throw new Nip05Error(
        `invalid name ${JSON.stringify(a.name)}: use lowercase a-z, 0-9, "-", "_" and "."`,
      );
    }
    if (Object.hasOwn(names, a.name)) throw new Nip05Error(`duplicate name "${a.name}"`);
    let pubkey: string;
    try {
      pubkey = parsePubkey(a.pubkey);
    } catch {
      throw new Nip05Error(`invalid pubkey for "${a.name}"`);
    }
    names[a.name] = pubkey;
  }
  const relayList = relays.filter((r) => typeof r === 'string' && r !== '');
  if (relayList.length === 0) return { names };
  const relayMap: Record<string, string[]> = {};
  for (const pubkey of Object.values(names)) relayMap[pubkey] = [...relayList];
  return { names, relays: relayMap };
}

/**
 * What `GET /.well-known/nostr.json?name=<nameParam>` answers. Without a name (null, undefined or empty)
 * the whole document; with one, only that name (matched case-insensitively, as NIP-05 names are) and the
 * relays of its pubkey; an unknown or invalid name gives `{ names: {} }` (still a 200 with valid JSON, so
 * clients read "not found" rather than an error).
 */
export function answerNip05Query(doc: NostrJson, nameParam: string | null | undefined): NostrJson {
  if (nameParam === undefined || nameParam === null || nameParam === '') return doc;
  const name = nameParam.toLowerCase();
  if (!isValidNip05Name(name) || !Object.hasOwn(doc.names, name)) return { names: {} };
  const pubkey = doc.names[name] as string;
  const relays = doc.relays?.[pubkey];
  const out: NostrJson = { names: { [name]: pubkey } };
  if (relays && relays.length > 0) out.relays = { [pubkey]: [...relays] };
  return out;
}

export type Nip05Verification =
  | { ok: true; name: string; domain: string; pubkey: string; relays: string[] }
  | { ok: false; reason: string };

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface VerifyNip05Options {
  /** Default: the global fetch. */
  fetch?: FetchLike;
  /** For the whole request, headers and body (default 5000). */
  timeoutMs?: number;
  /** Largest response body read (default 1 MiB). */
  maxBytes?: number;
  /** `https` (default, what NIP-05 says); `http` only for local networks and tests. */
  scheme?: 'https' | 'http';
}

/** Splits `name@domain` (or a bare `domain`, meaning `_@domain`), lowercased; undefined when malformed. */
export function parseNip05Identifier(identifier: string): { name: string; domain: string } | undefined {
  if (typeof identifier !== 'string') return undefined;
  const s = identifier.trim().toLowerCase();
  const at = s.lastIndexOf('@');
  const name = at === -1 ? '_' : s.slice(0, at);
  const domain = at === -1 ? s : s.slice(at + 1);
  if (!isValidNip05Name(name) || domain.length > 253 || !DOMAIN_RE.test(domain)) return undefined;
  return { name, domain };
}

/**
 * Checks that `identifier` (someone's `name@domain`) points at `pubkey` (hex or npub): one GET of
 * `https://<domain>/.well-known/nostr.json?name=<name>`, redirects refused (NIP-05 says clients MUST ignore
 * them), bounded in time and size. Never throws: every failure is `{ ok: false, reason }`.
 */
export async function verifyNip05(
  identifier: string,
  pubkey: string,
  options: VerifyNip05Options = {},
): Promise<Nip05Verification> {
  const id = parseNip05Identifier(identifier);
  if (!id) return { ok: false, reason: 'malformed identifier: expected name@domain' };
  let expected: string;
  try {
    expected = parsePubkey(pubkey);
  } catch {
    return { ok: false, reason: 'the pubkey to check is not a valid public key' };
  }
  const doFetch: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const url = `${options.scheme ?? 'https'}://${id.domain}/.well-known/nostr.json?name=${encodeURIComponent(id.name)}`;

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let body: string;
  try {
    const res = await doFetch(url, {
      redirect: 'manual',
      signal: controller.signal,
      headers: { accept: 'application/json' },
    });
    if (res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400)) {
      await res.body?.cancel().catch(() => {});
      return { ok: false, reason: `redirect refused (HTTP ${res.status}): NIP-05 forbids redirects` };
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      return { ok: false, reason: `HTTP ${res.status} from ${id.domain}` };
    }
    const text = await readLimited(res, maxBytes);
    if (text === undefined) return { ok: false, reason: `response larger than ${maxBytes} bytes` };
    body = text;
  } catch (err) {
    if (controller.signal.aborted) return { ok: false, reason: `timed out after ${timeoutMs} ms` };
    return { ok: false, reason: `request failed: ${describeFetchError(err)}` };
  } finally {
    clearTimeout(timer);
  }
  const checked = checkDocument(body, id.name, expected);
  if (!checked.ok) return checked;
  return { ok: true, name: id.name, domain: id.domain, pubkey: expected, relays: checked.relays };
}

function checkDocument(
  body: string,
  name: string,
  expected: string,
): { ok: true; relays: string[] } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'malformed JSON in nostr.json' };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { ok: false, reason: 'nostr.json is not a JSON object' };
  }
  const doc = json as Record<string, unknown>;
  const names = doc.names;
  if (names === null || typeof names !== 'object' || Array.isArray(names)) {
    return { ok: false, reason: 'nostr.json has no "names" object' };
  }
  const found = Object.hasOwn(names, name) ? (names as Record<string, unknown>)[name] : undefined;
  if (found === undefined) return { ok: false, reason: `name "${name}" not found` };
  if (typeof found !== 'string' || !/^[0-9a-f]{64}$/.test(found)) {
    return { ok: false, reason: `name "${name}" maps to a value that is not a lowercase hex pubkey` };
  }
  if (found !== expected) return { ok: false, reason: `name "${name}" belongs to another pubkey (${found})` };
  const relays: string[] = [];
  const relayMap = doc.relays;
  if (relayMap !== null && typeof relayMap === 'object' && !Array.isArray(relayMap)) {
    const list = Object.hasOwn(relayMap, found) ? (relayMap as Record<string, unknown>)[found] : undefined;
    if (Array.isArray(list)) {
      for (const r of list) if (typeof r === 'string' && /^wss?:\/\/\S+$/i.test(r)) relays.push(r);
    }
  }
  return { ok: true, relays };
}

async function readLimited(res: Response, maxBytes: number): Promise<string | undefined> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => {});
    return undefined;
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as Error & { cause?: unknown }).cause;
  const code = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : undefined;
  return code ? `${err.message} (${code})` : err.message;
}
