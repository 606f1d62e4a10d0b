/**
 * BOLT #11 invoices for the embedded test-sats wallet: `mintInvoice` signs real regtest invoices (`lnbcrt…`)
 * with the wallet's node key (through the `bolt11` package's encoder and signer), and `decodeInvoice` reads
 * any network's invoice with the spec's reader rules: bech32 checksum, amount multipliers, tagged fields of
 * the wrong length skipped, unknown required features refused, and the signature checked against the `n`
 * field or recovered into the payee's node key (bcrypto's native secp256k1).
 */
import { createHash, createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import bolt11 from 'bolt11';

const require = createRequire(import.meta.url);
const secp256k1 = require('bcrypto/lib/secp256k1') as {
  publicKeyCreate(key: Buffer, compress?: boolean): Buffer;
  privateKeyVerify(key: Buffer): boolean;
  recover(msg: Buffer, sig: Buffer, param: number, compress?: boolean): Buffer | null;
  verify(msg: Buffer, sig: Buffer, key: Buffer): boolean;
  signatureNormalize(sig: Buffer): Buffer;
};

/** Any input that is not a valid BOLT #11 invoice (or cannot be minted into one). */
export class InvoiceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvoiceError';
  }
}

export type InvoiceNetwork = 'mainnet' | 'testnet' | 'signet' | 'regtest' | 'simnet';

export interface DecodedInvoice {
  /** The invoice as given, lower-cased (without a `lightning:` prefix). */
  invoice: string;
  network: InvoiceNetwork;
  paymentHash: string;
  /** Undefined for an any-amount invoice. */
  amountMsats: number | undefined;
  /** '' when the invoice commits to a description hash instead (or has neither). */
  description: string;
  descriptionHash: string | undefined;
  paymentSecret: string | undefined;
  /** Unix seconds. */
  createdAt: number;
  expirySeconds: number;
  expiresAt: number;
  minFinalCltvExpiry: number;
  /** 33-byte compressed public key, hex: the `n` field, or the key recovered from the signature. */
  payeeNodeKey: string;
  /** Feature bits set in the `9` field. */
  features: number[];
  /** True when `nowS` is at or past `expiresAt`. */
  expired: boolean;
}

export interface MintInvoiceRequest {
  /** 32-byte secp256k1 secret key, hex: signs the invoice; its public key is the payee. */
  nodeSecretKey: string;
  /** Undefined mints an any-amount invoice. */
  amountMsats?: number;
  description: string;
  /** sha256 of a long description (`h` field); the invoice then carries no `d` field. */
  descriptionHash?: string;
  paymentHash: string;
  expirySeconds: number;
  /** Unix seconds. */
  timestamp: number;
}

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const CHARSET_INDEX = new Map([...CHARSET].map((c, i) => [c, i]));
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
const BECH32M_CONST = 0x2bc830a3;
const SIGNATURE_WORDS = 104;
const DEFAULT_EXPIRY = 3600;
const DEFAULT_MIN_FINAL_CLTV = 18;
const MIN_FINAL_CLTV = 18;
/** Invoice features this reader understands: var_onion_optin, payment_secret, basic_mpp, payment_metadata. */
const KNOWN_FEATURES = new Set([8, 9, 14, 15, 16, 17, 48, 49]);
const HEX32 = /^[0-9a-f]{64}$/;

const NETWORKS: readonly (readonly [string, InvoiceNetwork])[] = [
  ['bcrt', 'regtest'],
  ['tbs', 'signet'],
  ['bc', 'mainnet'],
  ['tb', 'testnet'],
  ['sb', 'simnet'],
];

/** Tagged field types (the bech32 value of the field's letter). */
const FIELD = { p: 1, r: 3, nine: 5, x: 6, f: 9, d: 13, s: 16, n: 19, h: 23, c: 24 } as const;

function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i] as number;
  }
  return chk >>> 0;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (const c of hrp) out.push(c.charCodeAt(0) >> 5);
  out.push(0);
  for (const c of hrp) out.push(c.charCodeAt(0) & 31);
  return out;
}

/** Bech32 (not bech32m) without the 90-character limit, as BOLT #11 uses it. */
export function bech32Encode(hrp: string, words: readonly number[]): string {
  const values = [...hrpExpand(hrp), ...words, 0, 0, 0, 0, 0, 0];
  const mod = polymod(values) ^ 1;
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >>> (5 * (5 - i))) & 31);
  return `${hrp}1${[...words, ...checksum].map((w) => CHARSET[w]).join('')}`;
}

/** Splits a bech32 string into its prefix and 5-bit words, checking the checksum. */
export function bech32Decode(input: string): { hrp: string; words: number[] } {
  if (input !== input.toLowerCase() && input !== input.toUpperCase()) {
    throw new InvoiceError('not bolt11: mixed upper and lower case');
  }
  const s = input.toLowerCase();
  const sep = s.lastIndexOf('1');
  if (sep < 1) throw new InvoiceError('not bolt11: no bech32 separator "1" after a prefix');
  const hrp = s.slice(0, sep);
  for (const c of hrp) {
    const code = c.charCodeAt(0);
    if (code < 33 || code > 126) throw new InvoiceError('not bolt11: invalid character in the prefix');
  }
  const words: number[] = [];
  for (const c of s.slice(sep + 1)) {
    const w = CHARSET_INDEX.get(c);
    if (w === undefined) throw new InvoiceError(`not bolt11: invalid bech32 character ${JSON.stringify(c)}`);
    words.push(w);
  }
  if (words.length < 6) throw new InvoiceError('not bolt11: too short for a bech32 checksum');
  const check = polymod([...hrpExpand(hrp), ...words]);
  if (check === BECH32M_CONST) throw new InvoiceError('bad checksum: bech32m, not bech32');
  if (check !== 1) throw new InvoiceError('bad checksum');
  return { hrp, words: words.slice(0, -6) };
}

/** 5-bit words to bytes; `pad` keeps a last partial byte (zero-filled), otherwise it is dropped. */
function wordsToBytes(words: readonly number[], pad: boolean): Buffer {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const w of words) {
    acc = ((acc << 5) | w) & 0xfff;
    bits += 5;
    while (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  if (pad && bits > 0) out.push((acc << (8 - bits)) & 0xff);
  return Buffer.from(out);
}

function wordsToInt(words: readonly number[], what: string): number {
  if (words.length > 10) throw new InvoiceError(`${what} is too large`);
  let n = 0;
  for (const w of words) n = n * 32 + w;
  return n;
}

const MULTIPLIER_MSATS: Record<string, bigint> = {
  '': 100_000_000_000n,
  m: 100_000_000n,
  u: 100_000n,
  n: 100n,
};

function parseAmount(amount: string): number | undefined {
  if (amount === '') return undefined;
  const m = /^([0-9]+)([munp]?)$/.exec(amount);
  if (!m) throw new InvoiceError(`invalid amount ${JSON.stringify(amount)} in the prefix`);
  const [, digits = '', multiplier = ''] = m;
  if (digits.startsWith('0')) throw new InvoiceError('invalid amount: leading zero or zero amount');
  const value = BigInt(digits);
  let msats: bigint;
  if (multiplier === 'p') {
    if (value % 10n !== 0n) throw new InvoiceError('invalid amount: sub-millisatoshi precision');
    msats = value / 10n;
  } else {
    msats = value * (MULTIPLIER_MSATS[multiplier] as bigint);
  }
  if (msats > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvoiceError('invalid amount: too large');
  return Number(msats);
}

function parsePrefix(hrp: string): { network: InvoiceNetwork; amountMsats: number | undefined } {
  if (!hrp.startsWith('ln')) throw new InvoiceError('not bolt11: the prefix does not start with "ln"');
  const rest = hrp.slice(2);
  for (const [prefix, network] of NETWORKS) {
    if (rest.startsWith(prefix)) return { network, amountMsats: parseAmount(rest.slice(prefix.length)) };
  }
  throw new InvoiceError(`not bolt11: unknown network prefix ${JSON.stringify(hrp)}`);
}

function parseFeatures(words: readonly number[]): number[] {
  const set: number[] = [];
  const total = words.length * 5;
  words.forEach((w, i) => {
    for (let b = 0; b < 5; b++) {
      if ((w >> (4 - b)) & 1) set.push(total - 1 - (i * 5 + b));
    }
  });
  return set.sort((a, b) => a - b);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes and verifies a BOLT #11 invoice (any network). `nowS` (unix seconds, default the system time)
 * decides `expired`. Throws InvoiceError for anything malformed, never another error.
 */
export function decodeInvoice(input: unknown, nowS: number = Math.floor(Date.now() / 1000)): DecodedInvoice {
  if (typeof input !== 'string') throw new InvoiceError('not bolt11: not a string');
  let s = input.trim();
  if (s.toLowerCase().startsWith('lightning:')) s = s.slice('lightning:'.length);
  if (s.length === 0) throw new InvoiceError('not bolt11: empty');
  const { hrp, words } = bech32Decode(s);
  const { network, amountMsats } = parsePrefix(hrp);
  if (words.length < 7 + SIGNATURE_WORDS) {
    throw new InvoiceError('not bolt11: too short for a timestamp and a signature');
  }
  const data = words.slice(0, -SIGNATURE_WORDS);
  const createdAt = wordsToInt(data.slice(0, 7), 'timestamp');

  let paymentHash: string | undefined;
  let paymentSecret: string | undefined;
  let description: string | undefined;
  let descriptionHash: string | undefined;
  let nodeKey: Buffer | undefined;
  let expirySeconds: number | undefined;
  let minFinalCltvExpiry: number | undefined;
  let features: number[] = [];
  for (let i = 7; i < data.length; ) {
    if (data.length - i < 3) throw new InvoiceError('malformed: truncated tagged field');
    const type = data[i] as number;
    const len = (data[i + 1] as number) * 32 + (data[i + 2] as number);
    const field = data.slice(i + 3, i + 3 + len);
    if (field.length < len) throw new InvoiceError('malformed: tagged field longer than the invoice');
    i += 3 + len;
    // Fields of the wrong length are skipped, as the spec requires; the first valid one of a kind counts.
    switch (type) {
      case FIELD.p:
        if (len === 52 && paymentHash === undefined) paymentHash = wordsToBytes(field, false).toString('hex');
        break;
      case FIELD.s:
        if (len === 52 && paymentSecret === undefined)
          paymentSecret = wordsToBytes(field, false).toString('hex');
        break;
      case FIELD.h:
        if (len === 52 && descriptionHash === undefined)
          descriptionHash = wordsToBytes(field, false).toString('hex');
        break;
      case FIELD.n:
        if (len === 53 && nodeKey === undefined) nodeKey = wordsToBytes(field, false);
        break;
      case FIELD.d:
        if (description === undefined) {
          try {
            description = utf8.decode(wordsToBytes(field, false));
          } catch {
            throw new InvoiceError('malformed: the description is not valid UTF-8');
          }
        }
        break;
      case FIELD.x:
        expirySeconds ??= wordsToInt(field, 'expiry');
        break;
      case FIELD.c:
        minFinalCltvExpiry ??= wordsToInt(field, 'min_final_cltv_expiry');
        break;
      case FIELD.nine:
        features = parseFeatures(field);
        break;
      default:
        break; // r, f, m and unknown fields: not needed here
    }
  }
  for (const bit of features) {
    if (bit % 2 === 0 && !KNOWN_FEATURES.has(bit)) {
      throw new InvoiceError(`unsupported invoice: unknown required feature bit ${bit}`);
    }
  }

  const sigBytes = wordsToBytes(words.slice(-SIGNATURE_WORDS), false);
  const signature = sigBytes.subarray(0, 64);
  const recoveryId = sigBytes[64] as number;
  if (recoveryId > 3) throw new InvoiceError('bad signature: invalid recovery id');
  const digest = createHash('sha256')
    .update(Buffer.concat([Buffer.from(hrp, 'utf8'), wordsToBytes(data, true)]))
    .digest();
  let payee: Buffer;
  if (nodeKey !== undefined) {
    let ok = false;
    try {
      ok = secp256k1.verify(digest, secp256k1.signatureNormalize(signature), nodeKey);
    } catch {
      ok = false;
    }
    if (!ok) throw new InvoiceError('bad signature: it does not verify against the payee node key (n field)');
    payee = nodeKey;
  } else {
    let recovered: Buffer | null = null;
    try {
      recovered = secp256k1.recover(digest, signature, recoveryId, true);
    } catch {
      recovered = null;
    }
    if (!recovered) throw new InvoiceError('bad signature: no public key can be recovered from it');
    payee = recovered;
  }
  if (paymentHash === undefined) throw new InvoiceError('malformed: no payment hash');
  const expiry = expirySeconds ?? DEFAULT_EXPIRY;
  const expiresAt = createdAt + expiry;
  return {
    invoice: s.toLowerCase(),
    network,
    paymentHash,
    amountMsats,
    description: description ?? '',
    descriptionHash,
    paymentSecret,
    createdAt,
    expirySeconds: expiry,
    expiresAt,
    minFinalCltvExpiry: minFinalCltvExpiry ?? DEFAULT_MIN_FINAL_CLTV,
    payeeNodeKey: payee.toString('hex'),
    features,
    expired: nowS >= expiresAt,
  };
}

const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] };

function nodeKeyBuffer(nodeSecretKey: string): Buffer {
  const key =
    typeof nodeSecretKey === 'string' && HEX32.test(nodeSecretKey)
      ? Buffer.from(nodeSecretKey, 'hex')
      : undefined;
  if (!key || !secp256k1.privateKeyVerify(key)) {
    throw new InvoiceError('the node secret key must be 32 bytes of hex and a valid secp256k1 key');
  }
  return key;
}

/** The node public key (33 bytes compressed, hex) of a node secret key. */
export function nodePublicKey(nodeSecretKey: string): string {
  return secp256k1.publicKeyCreate(nodeKeyBuffer(nodeSecretKey), true).toString('hex');
}

/**
 * Mints a signed regtest invoice (`lnbcrt…`) with payment secret, required var_onion_optin and
 * payment_secret features, the payee's `n` field and a min_final_cltv_expiry of 18. Deterministic: the same
 * request gives the same invoice (the payment secret is derived from the node key and the payment hash).
 */
export function mintInvoice(req: MintInvoiceRequest): string {
  const key = nodeKeyBuffer(req.nodeSecretKey);
  if (typeof req.paymentHash !== 'string' || !HEX32.test(req.paymentHash)) {
    throw new InvoiceError('the payment hash must be 32 bytes of lower-case hex');
  }
  if (req.amountMsats !== undefined && (!Number.isSafeInteger(req.amountMsats) || req.amountMsats <= 0)) {
    throw new InvoiceError('the amount must be a positive integer number of msats');
  }
  if (!Number.isSafeInteger(req.expirySeconds) || req.expirySeconds < 0 || req.expirySeconds > 2 ** 40) {
    throw new InvoiceError('the expiry must be a non-negative integer number of seconds');
  }
  if (!Number.isSafeInteger(req.timestamp) || req.timestamp < 0 || req.timestamp >= 2 ** 35) {
    throw new InvoiceError('the timestamp must be unix seconds');
  }
  if (req.descriptionHash !== undefined && !HEX32.test(req.descriptionHash)) {
    throw new InvoiceError('the description hash must be 32 bytes of lower-case hex');
  }
  if (req.descriptionHash === undefined && Buffer.byteLength(req.description, 'utf8') > 639) {
    throw new InvoiceError('the description is too long for an invoice (639 bytes at most)');
  }
  const paymentSecret = createHmac('sha256', key)
    .update(`bolt11 payment secret ${req.paymentHash}`)
    .digest('hex');
  const tags: { tagName: string; data: unknown }[] = [
    { tagName: 'payment_hash', data: req.paymentHash },
    { tagName: 'payment_secret', data: paymentSecret },
    req.descriptionHash !== undefined
      ? { tagName: 'purpose_commit_hash', data: req.descriptionHash }
      : { tagName: 'description', data: req.description },
    { tagName: 'expire_time', data: req.expirySeconds },
    { tagName: 'min_final_cltv_expiry', data: MIN_FINAL_CLTV },
    { tagName: 'payee_node_key', data: secp256k1.publicKeyCreate(key, true).toString('hex') },
    {
      tagName: 'feature_bits',
      data: {
        word_length: 4,
        var_onion_optin: { required: true, supported: true },
        payment_secret: { required: true, supported: true },
      },
    },
  ];
  try {
    const unsigned = bolt11.encode(
      {
        network: REGTEST,
        timestamp: req.timestamp,
        ...(req.amountMsats !== undefined ? { millisatoshis: String(req.amountMsats) } : {}),
        tags: tags as Parameters<typeof bolt11.encode>[0]['tags'],
      },
      false,
    );
    const signed = bolt11.sign(unsigned, req.nodeSecretKey);
    if (!signed.paymentRequest) throw new Error('the encoder returned no payment request');
    return signed.paymentRequest;
  } catch (err) {
    throw new InvoiceError(`cannot mint the invoice: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** sha256 of a hex preimage, hex (the payment hash it unlocks). */
export function paymentHashOf(preimageHex: string): string {
  return createHash('sha256').update(Buffer.from(preimageHex, 'hex')).digest('hex');
}
