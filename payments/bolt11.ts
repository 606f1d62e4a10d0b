/**
 * BOLT #11 invoices for the embedded test-sats wallet: `mintInvoice` signs real regtest invoices (`lnbcrt…`)
 * with the wallet's node key, and `decodeInvoice` reads any network's invoice, both through the `bolt11`
 * package (bech32 checksum, amount, tagged fields, signature recovery and the check against the `n` field).
 * On top of it: tagged fields of the wrong length are skipped, unknown required features refused, and the
 * library's errors become InvoiceErrors.
 */
import { createHash, createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import bolt11 from 'bolt11';
import { errorMessage } from '../core/errors.ts';

const require = createRequire(import.meta.url);
const secp256k1 = require('bcrypto/lib/secp256k1') as {
  publicKeyCreate(key: Buffer, compress?: boolean): Buffer;
  privateKeyVerify(key: Buffer): boolean;
};

/** Any input that is not a valid BOLT #11 invoice (or cannot be minted into one). */
export class InvoiceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
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

const DEFAULT_EXPIRY = 3600;
const DEFAULT_MIN_FINAL_CLTV = 18;
const MIN_FINAL_CLTV = 18;
/** Invoice features this reader understands: var_onion_optin, payment_secret, basic_mpp, payment_metadata. */
const KNOWN_FEATURES = new Set([8, 9, 14, 15, 16, 17, 48, 49]);
const HEX32 = /^[0-9a-f]{64}$/;

type Decoded = ReturnType<typeof bolt11.decode>;
type FeatureBits = NonNullable<Decoded['tagsObject']['feature_bits']>;

const NETWORKS: Record<string, InvoiceNetwork> = {
  bc: 'mainnet',
  tb: 'testnet',
  tbs: 'signet',
  bcrt: 'regtest',
  sb: 'simnet',
};
/** The library knows bc, tb, bcrt and sb by itself; signet (`lntbs…`) has to be named. */
const SIGNET = { bech32: 'tbs', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] };

/** The library's error messages, as InvoiceError messages (the library's own texts may echo the input). */
const LIBRARY_ERRORS: readonly (readonly [RegExp, string])[] = [
  [/^Mixed-case/, 'not bolt11: mixed upper and lower case'],
  [/^Invalid checksum/, 'bad checksum'],
  [/^Signature is missing/, 'too short: the signature is missing or malformed'],
  [
    /^(Public key could not be recover|Signature could not be parsed)/,
    'bad signature: no public key can be recovered from it',
  ],
  [
    /signature pubkey does not match payee pubkey/,
    'bad signature: it does not match the payee node key (n field)',
  ],
  [/^Not a valid (multiplier|human readable amount)/, 'invalid amount in the prefix'],
  [
    /^Amount is outside of valid range/,
    'invalid amount: sub-millisatoshi precision or outside the valid range',
  ],
  [/^Unknown coin bech32 prefix/, 'not bolt11: unknown network prefix'],
  [
    /too short|^No separator|^Missing prefix|^Invalid prefix|^Unknown character|^Not a proper/,
    'not bolt11: not a bech32 lightning invoice',
  ],
];

function libraryDecode(invoice: string): Decoded {
  try {
    return bolt11.decode(invoice, invoice.startsWith('lntbs') ? SIGNET : undefined);
  } catch (err) {
    const message = errorMessage(err);
    const known = LIBRARY_ERRORS.find(([pattern]) => pattern.test(message));
    throw new InvoiceError(known ? known[1] : 'malformed: the invoice cannot be parsed', { cause: err });
  }
}

/** The library's bit-pair names for feature bits 0–19 (bit 2i: required, 2i + 1: supported). */
const NAMED_FEATURES = [
  'option_data_loss_protect',
  'initial_routing_sync',
  'option_upfront_shutdown_script',
  'gossip_queries',
  'var_onion_optin',
  'gossip_queries_ex',
  'option_static_remotekey',
  'payment_secret',
  'basic_mpp',
  'option_support_large_channel',
] as const;

function featureBitsOf(features: FeatureBits | undefined): number[] {
  if (!features) return [];
  const set: number[] = [];
  NAMED_FEATURES.forEach((name, i) => {
    if (features[name]?.required) set.push(2 * i);
    if (features[name]?.supported) set.push(2 * i + 1);
  });
  const extra = features.extra_bits;
  extra?.bits.forEach((on, i) => {
    if (on) set.push(extra.start_bit + i);
  });
  return set;
}

function safeInteger(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new InvoiceError(`malformed: the ${what} is too large`);
  }
  return value;
}

/**
 * Decodes and verifies a BOLT #11 invoice (any network). `nowS` (unix seconds, default the system time)
 * decides `expired`. Throws InvoiceError for anything malformed, never another error.
 */
export function decodeInvoice(input: unknown, nowS: number = Math.floor(Date.now() / 1000)): DecodedInvoice {
  if (typeof input !== 'string') throw new InvoiceError('not bolt11: not a string');
  let s = input.trim();
  if (s.toLowerCase().startsWith('lightning:')) s = s.slice('lightning:'.length);
  if (s.length === 0) throw new InvoiceError('not bolt11: empty');
  const d = libraryDecode(s);
  const invoice = s.toLowerCase();
  const bech32Prefix = d.network?.bech32 ?? '';
  const network = NETWORKS[bech32Prefix];
  if (!network) throw new InvoiceError('not bolt11: unknown network prefix');
  // Data words (after the prefix, "1" and before the 6 checksum characters): timestamp (7) and signature (104).
  if (invoice.length - invoice.lastIndexOf('1') - 7 < 7 + 104) {
    throw new InvoiceError('too short for a timestamp and a signature');
  }
  if ((d.prefix ?? '').slice(2 + bech32Prefix.length).startsWith('0')) {
    throw new InvoiceError('invalid amount: leading zero or zero amount');
  }
  const amountMsats = d.millisatoshis ? Number(d.millisatoshis) : undefined;
  if (amountMsats !== undefined && !Number.isSafeInteger(amountMsats)) {
    throw new InvoiceError('invalid amount: too large');
  }

  // The first field of a kind counts; fields of the wrong length are skipped, as the spec requires (the
  // library decodes 32-byte fields to 64 hex digits only from the right length, 52 words).
  const first = (name: string, valid: (data: unknown) => boolean = () => true): unknown =>
    d.tags.find((t) => t.tagName === name && valid(t.data))?.data;
  const hex32 = (data: unknown): boolean => typeof data === 'string' && data.length === 64;
  const paymentHash = first('payment_hash', hex32) as string | undefined;
  if (paymentHash === undefined) throw new InvoiceError('malformed: no payment hash');
  const features = featureBitsOf(first('feature_bits') as FeatureBits | undefined);
  for (const bit of features) {
    if (bit % 2 === 0 && !KNOWN_FEATURES.has(bit)) {
      throw new InvoiceError(`unsupported invoice: unknown required feature bit ${bit}`);
    }
  }
  const createdAt = d.timestamp ?? 0;
  const expirySeconds = safeInteger(first('expire_time'), 'expiry') ?? DEFAULT_EXPIRY;
  const expiresAt = createdAt + expirySeconds;
  return {
    invoice,
    network,
    paymentHash,
    amountMsats,
    description: (first('description') as string | undefined) ?? '',
    descriptionHash: first('purpose_commit_hash', hex32) as string | undefined,
    paymentSecret: first('payment_secret', hex32) as string | undefined,
    createdAt,
    expirySeconds,
    expiresAt,
    minFinalCltvExpiry:
      safeInteger(first('min_final_cltv_expiry'), 'min_final_cltv_expiry') ?? DEFAULT_MIN_FINAL_CLTV,
    payeeNodeKey: d.payeeNodeKey ?? '',
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
    throw new InvoiceError(`cannot mint the invoice: ${errorMessage(err)}`);
  }
}

/** sha256 of a hex preimage, hex (the payment hash it unlocks). */
export function paymentHashOf(preimageHex: string): string {
  return createHash('sha256').update(Buffer.from(preimageHex, 'hex')).digest('hex');
}
