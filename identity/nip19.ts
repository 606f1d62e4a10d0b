import { decode, encodeBytes, noteEncode, npubEncode, nsecEncode } from 'nostr-tools/nip19';
import { errorMessage } from '../core/errors.ts';

/**
 * NIP-19 bech32 entities: decoding any of them into a typed result, encoding the ones we hand out, and
 * parsing the public keys and secret keys people type in (hex or bech32). Built on nostr-tools/nip19, with
 * the checks it leaves out (32-byte lengths of npub/nsec/note, known prefixes) and errors that say what is
 * wrong without ever repeating the input (which may be a secret key). TLV entities are written in type
 * order (0, 1..., 2, 3) as in the NIP's example, so the spec's nprofile vector encodes byte for byte
 * (nostr-tools' encoders put the relays first; both orders decode the same).
 */

export type Nip19Type = 'npub' | 'nsec' | 'note' | 'nprofile' | 'nevent' | 'naddr';

export type Nip19Entity =
  | { type: 'npub'; pubkey: string }
  | { type: 'nsec'; secretKey: Uint8Array }
  | { type: 'note'; id: string }
  | { type: 'nprofile'; pubkey: string; relays: string[] }
  | { type: 'nevent'; id: string; relays: string[]; author?: string; kind?: number }
  | { type: 'naddr'; identifier: string; pubkey: string; kind: number; relays: string[] };

export type Nip19ErrorCode =
  /** Not bech32 at all: empty, too long, no separator, characters outside the bech32 alphabet, mixed case. */
  | 'malformed'
  /** Bech32, but the checksum does not match: a typo or a truncated copy. */
  | 'checksum'
  /** A prefix that is not one of npub, nsec, note, nprofile, nevent, naddr. */
  | 'unknown-prefix'
  /** A valid entity, but not of the type that was asked for. */
  | 'wrong-type'
  /** A bare key or id that is not 32 bytes. */
  | 'length'
  /** A TLV entity (nprofile, nevent, naddr) whose content is missing a field or has one of the wrong size. */
  | 'tlv'
  /** A value given to an encoder that is not what it takes (e.g. a hex key that is not 64 hex characters). */
  | 'invalid-value';

export class Nip19Error extends Error {
  constructor(
    readonly code: Nip19ErrorCode,
    detail: string,
  ) {
    super(`NIP-19: ${detail}`);
    this.name = 'Nip19Error';
  }
}

const TYPES: readonly string[] = ['npub', 'nsec', 'note', 'nprofile', 'nevent', 'naddr'];
const MAX_LENGTH = 5000;
const HEX32 = /^[0-9a-f]{64}$/;

/** True for 64 lowercase hex characters (a public key or an event id as NIP-01 writes them). */
export function isHex32(value: string): boolean {
  return HEX32.test(value);
}

function hexToBytes32(hex: string, what: string): Uint8Array {
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new Nip19Error('invalid-value', `${what} must be 64 hex characters`);
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function prefixOf(input: string): string {
  const sep = input.lastIndexOf('1');
  return sep > 0 ? input.slice(0, sep).toLowerCase() : '';
}

/**
 * Decodes any NIP-19 entity (a leading `nostr:` of NIP-21 is accepted). Throws Nip19Error with a code and a
 * message that names the prefix but never echoes the input.
 */
export function decodeNip19(input: string): Nip19Entity {
  if (typeof input !== 'string') throw new Nip19Error('malformed', 'expected a string');
  let code = input.trim();
  if (code.toLowerCase().startsWith('nostr:')) code = code.slice(6);
  if (code === '') throw new Nip19Error('malformed', 'empty input');
  if (code.length > MAX_LENGTH) throw new Nip19Error('malformed', `longer than ${MAX_LENGTH} characters`);
  const prefix = prefixOf(code);
  if (prefix === '') throw new Nip19Error('malformed', 'not a bech32 string (no prefix and "1" separator)');
  if (!TYPES.includes(prefix)) {
    const hint =
      prefix === 'ncryptsec'
        ? ' (an encrypted secret key: NIP-49, needs its passphrase)'
        : prefix === 'nrelay'
          ? ' (nrelay is deprecated)'
          : '';
    throw new Nip19Error(
      'unknown-prefix',
      `unknown prefix "${prefix.slice(0, 20)}"${hint}; expected one of ${TYPES.join(', ')}`,
    );
  }
  let decoded: ReturnType<typeof decode>;
  try {
    decoded = decode(code);
  } catch (err) {
    // nostr-tools/@scure messages repeat the input (maybe an nsec): classify, never forward them.
    const msg = errorMessage(err);
    if (/checksum/i.test(msg))
      throw new Nip19Error('checksum', `bad checksum in ${prefix} (typo or truncated?)`);
    if (/TLV/.test(msg)) throw new Nip19Error('tlv', `${prefix}: ${tlvDetail(msg)}`);
    throw new Nip19Error('malformed', `${prefix}: not valid bech32 (${malformedDetail(msg)})`);
  }
  switch (decoded.type) {
    case 'npub':
      return { type: 'npub', pubkey: checkLength32(decoded.data.length / 2, 'npub', decoded.data) };
    case 'note':
      return { type: 'note', id: checkLength32(decoded.data.length / 2, 'note', decoded.data) };
    case 'nsec':
      checkLength32(decoded.data.length, 'nsec', '');
      return { type: 'nsec', secretKey: decoded.data };
    case 'nprofile':
      return { type: 'nprofile', pubkey: decoded.data.pubkey, relays: decoded.data.relays ?? [] };
    case 'nevent': {
      const out: Nip19Entity = { type: 'nevent', id: decoded.data.id, relays: decoded.data.relays ?? [] };
      if (decoded.data.author !== undefined) out.author = decoded.data.author;
      if (decoded.data.kind !== undefined) out.kind = decoded.data.kind;
      return out;
    }
    case 'naddr':
      return {
        type: 'naddr',
        identifier: decoded.data.identifier,
        pubkey: decoded.data.pubkey,
        kind: decoded.data.kind,
        relays: decoded.data.relays ?? [],
      };
  }
}

function checkLength32(bytes: number, type: string, value: string): string {
  if (bytes !== 32) throw new Nip19Error('length', `${type} must hold 32 bytes, found ${bytes}`);
  return value;
}

function tlvDetail(msg: string): string {
  const m = /(missing TLV \d+|TLV \d+ should be \d+ bytes|not enough data to read (on )?TLV( \d+)?)/.exec(
    msg,
  );
  return m?.[1] ?? 'malformed TLV';
}

function malformedDetail(msg: string): string {
  if (/lowercase or uppercase/i.test(msg)) return 'mixed case';
  if (/unknown letter/i.test(msg)) return 'character outside the bech32 alphabet';
  if (/length/i.test(msg)) return 'wrong length';
  return 'bad encoding';
}

/** Decodes and requires a given type, e.g. `decodeNip19As(s, 'npub').pubkey`. */
export function decodeNip19As<T extends Nip19Type>(
  input: string,
  type: T,
): Extract<Nip19Entity, { type: T }> {
  const entity = decodeNip19(input);
  if (entity.type !== type) throw new Nip19Error('wrong-type', `expected ${type}, got ${entity.type}`);
  return entity as Extract<Nip19Entity, { type: T }>;
}

export function encodeNpub(pubkey: string): string {
  return npubEncode(toHex(hexToBytes32(pubkey, 'pubkey')));
}

export function encodeNsec(secretKey: Uint8Array): string {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) {
    throw new Nip19Error('invalid-value', 'secret key must be 32 bytes');
  }
  return nsecEncode(secretKey);
}

export function encodeNote(id: string): string {
  return noteEncode(toHex(hexToBytes32(id, 'event id')));
}

function checkRelays(relays: readonly string[] | undefined): Uint8Array[] {
  return [...(relays ?? [])].map((r) => {
    const bytes = typeof r === 'string' ? Buffer.from(r, 'utf8') : Buffer.alloc(0);
    if (bytes.length === 0 || bytes.length > 255) {
      throw new Nip19Error('invalid-value', 'each relay must be a non-empty string of at most 255 bytes');
    }
    return bytes;
  });
}

function kindBytes(kind: number): Uint8Array {
  if (!Number.isInteger(kind) || kind < 0 || kind > 0xffffffff) {
    throw new Nip19Error('invalid-value', 'kind must be an unsigned 32-bit integer');
  }
  const b = Buffer.alloc(4);
  b.writeUInt32BE(kind);
  return b;
}

/** TLV records in the order given: [type, value] pairs, 1-byte type, 1-byte length. */
function tlv(records: [number, Uint8Array][]): Uint8Array {
  return Buffer.concat(records.map(([t, v]) => Buffer.concat([Buffer.from([t, v.length]), v])));
}

export function encodeNprofile(profile: { pubkey: string; relays?: readonly string[] }): string {
  const records: [number, Uint8Array][] = [[0, hexToBytes32(profile.pubkey, 'pubkey')]];
  for (const r of checkRelays(profile.relays)) records.push([1, r]);
  return encodeBytes('nprofile', tlv(records));
}

export function encodeNevent(event: {
  id: string;
  relays?: readonly string[];
  author?: string;
  kind?: number;
}): string {
  const records: [number, Uint8Array][] = [[0, hexToBytes32(event.id, 'event id')]];
  for (const r of checkRelays(event.relays)) records.push([1, r]);
  if (event.author !== undefined) records.push([2, hexToBytes32(event.author, 'author')]);
  if (event.kind !== undefined) records.push([3, kindBytes(event.kind)]);
  return encodeBytes('nevent', tlv(records));
}

export function encodeNaddr(addr: {
  identifier: string;
  pubkey: string;
  kind: number;
  relays?: readonly string[];
}): string {
  const identifier = typeof addr.identifier === 'string' ? Buffer.from(addr.identifier, 'utf8') : undefined;
  if (identifier === undefined || identifier.length > 255) {
    throw new Nip19Error('invalid-value', 'identifier must be a string of at most 255 bytes');
  }
  const records: [number, Uint8Array][] = [[0, identifier]];
  for (const r of checkRelays(addr.relays)) records.push([1, r]);
  records.push([2, hexToBytes32(addr.pubkey, 'pubkey')]);
  records.push([3, kindBytes(addr.kind)]);
  return encodeBytes('naddr', tlv(records));
}

/**
 * A public key typed by a person or read from config: 64 hex characters (any case), an npub, or an
 * nprofile (also with a `nostr:` prefix). Returns lowercase hex; throws Nip19Error otherwise.
 */
export function parsePubkey(input: string): string {
  if (typeof input !== 'string') throw new Nip19Error('malformed', 'expected a string');
  const s = input.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return s.toLowerCase();
  if (/^[0-9a-fA-F]+$/.test(s)) {
    throw new Nip19Error('length', `a hex public key has 64 characters, found ${s.length}`);
  }
  const entity = decodeNip19(s);
  if (entity.type === 'npub' || entity.type === 'nprofile') return entity.pubkey;
  if (entity.type === 'nsec') {
    throw new Nip19Error(
      'wrong-type',
      'expected a public key (hex, npub or nprofile), got a secret key (nsec)',
    );
  }
  throw new Nip19Error('wrong-type', `expected a public key (hex, npub or nprofile), got ${entity.type}`);
}

/**
 * A secret key typed by a person: 64 hex characters or an nsec. Returns a fresh 32-byte array; throws
 * Nip19Error (whose message never contains the input) otherwise.
 */
export function parseSecretKey(input: string): Uint8Array {
  if (typeof input !== 'string') throw new Nip19Error('malformed', 'expected a string');
  const s = input.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Uint8Array.from(Buffer.from(s, 'hex'));
  if (/^[0-9a-fA-F]+$/.test(s)) {
    throw new Nip19Error('length', `a hex secret key has 64 characters, found ${s.length}`);
  }
  const entity = decodeNip19(s);
  if (entity.type !== 'nsec') {
    throw new Nip19Error('wrong-type', `expected a secret key (hex or nsec), got ${entity.type}`);
  }
  return entity.secretKey;
}
