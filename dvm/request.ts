/**
 * NIP-90 job requests (kinds 5000-5999): building them, decrypting encrypted ones, and reading them into a
 * typed JobRequest with every tag checked. A parse failure is a JobRequestError whose message tells the
 * customer what is wrong with their request, fit for a NIP-90 `error` feedback.
 */
import { type EventTemplate, type NostrEvent, plainEvent } from '../core/nostr.ts';
import type { Signer } from '../core/signer.ts';
import {
  DvmEventError,
  hasProtocol,
  isHex64,
  isJobRequestKind,
  JOB_REQUEST_MAX,
  JOB_REQUEST_MIN,
  parseNonNegativeInt,
  quote,
} from './kinds.ts';

export type InputType = 'text' | 'url' | 'event' | 'job';
export const INPUT_TYPES: readonly InputType[] = ['text', 'url', 'event', 'job'];
/** Input types other clients write, read as one of ours (the registry's own kind 5050 example says "prompt"). */
const INPUT_TYPE_ALIASES: Readonly<Record<string, InputType>> = { prompt: 'text' };

/** One `i` tag: ["i", data, type, relay, marker]. */
export interface JobRequestInput {
  data: string;
  type: InputType;
  /** Where an `event` or `job` input was published; '' when not given. */
  relay: string;
  /** How the input is to be used in the job; '' when not given. */
  marker: string;
}

export interface JobRequest {
  /** The event parsed (for an encrypted request: the decrypted copy from decryptJobRequest). */
  event: NostrEvent;
  id: string;
  kind: number;
  /** The customer's pubkey (the request's author). */
  customer: string;
  inputs: JobRequestInput[];
  /** `param` tags by name, the last one wins; the value is the tag's third element. */
  params: Record<string, string>;
  /** Every `param` tag as [name, value], in order. */
  paramList: [string, string][];
  /** Every value of each param by name (some params take several, e.g. ["param", "range", "300", "360"]), last tag wins. */
  paramValues: Record<string, string[]>;
  /** The `output` tag (a MIME type); '' when absent. */
  output: string;
  /** The `bid` tag: the most the customer will pay, in millisats. */
  bidMsats: number | undefined;
  /** Where the customer wants the feedback and result published (`relays` tags). */
  relays: string[];
  /** The service providers the customer addressed (`p` tags). */
  providers: string[];
  /** Whether the request came with encrypted params (NIP-90 "Encrypted Params"). */
  encrypted: boolean;
  /** The NIP-40 `expiration` tag (unix seconds). */
  expiresAt: number | undefined;
  content: string;
}

/**
 * Why a request cannot be served: `invalid` (a malformed tag), `too-large` (a limit), `not-decrypted` (an
 * encrypted request given to parseJobRequest before decryptJobRequest: the caller's mistake), `undecryptable`
 * (the content does not decrypt to tags for this key), `not-addressed` (encrypted for another provider: ignore
 * it rather than answer).
 */
export type JobRequestErrorCode =
  | 'invalid'
  | 'too-large'
  | 'not-decrypted'
  | 'undecryptable'
  | 'not-addressed';

/** A request that cannot be served; the message is for the customer (NIP-90 `error` feedback). */
export class JobRequestError extends DvmEventError {
  constructor(
    message: string,
    readonly code: JobRequestErrorCode = 'invalid',
  ) {
    super(message);
    this.name = 'JobRequestError';
  }
}

export interface JobRequestLimits {
  /** Most `i` tags a request may have (default 20). */
  maxInputs?: number;
  /** Most bytes (UTF-8) all inputs' data may total (default 65536). */
  maxInputBytes?: number;
  /**
   * An encrypted request that is not decrypted is read for its public tags only (bid, p, relays,
   * expiration, output): its inputs and params stay sealed (empty here). For whoever routes and bills a
   * request it cannot read (a desk); without it, such a request is a `not-decrypted` error.
   */
  publicTagsOnly?: boolean;
}

export const DEFAULT_MAX_INPUTS = 20;
export const DEFAULT_MAX_INPUT_BYTES = 65536;

/**
 * The tag decryptJobRequest appends to the decrypted copy of an encrypted request: ["decrypted", n], n the
 * number of decrypted tags just before it. It makes the copy self-describing (it survives JSON), so the
 * parser knows it was decrypted and publishedRequest can give back the event as the customer published it.
 */
export const DECRYPTED_TAG = 'decrypted';

export function isEncryptedRequest(event: Pick<NostrEvent, 'tags'>): boolean {
  return event.tags.some((t) => t[0] === 'encrypted');
}

/** The number of decrypted tags in a copy made by decryptJobRequest, or undefined for any other event. */
function decryptedCount(event: Pick<NostrEvent, 'tags'>): number | undefined {
  const last = event.tags[event.tags.length - 1];
  if (last === undefined || last[0] !== DECRYPTED_TAG || !isEncryptedRequest(event)) return undefined;
  const n = parseNonNegativeInt(last[1]);
  return n !== undefined && n <= event.tags.length - 1 ? n : undefined;
}

/** Whether `event` is the decrypted copy of an encrypted request (made by decryptJobRequest). */
export function isDecryptedRequest(event: Pick<NostrEvent, 'tags'>): boolean {
  return decryptedCount(event) !== undefined;
}

/**
 * The request as its customer published it: for a copy made by decryptJobRequest, the event without the
 * decrypted tags (its id and signature are valid again, and no plaintext is left); any other event as is.
 */
export function publishedRequest(event: NostrEvent): NostrEvent {
  const n = decryptedCount(event);
  if (n === undefined) return event;
  return { ...plainEvent(event), tags: event.tags.slice(0, event.tags.length - 1 - n) };
}

const describeTag = (tag: readonly string[]): string => quote(JSON.stringify(tag), 120);

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function parseInput(tag: readonly string[], n: number): JobRequestInput {
  const [, data, rawType, relay = '', marker = ''] = tag;
  const where = `input ${n} ${describeTag(tag)}`;
  if (typeof data !== 'string' || data === '')
    throw new JobRequestError(`${where} has no data: write ["i", "<data>", "<type>"]`);
  if (rawType === undefined || rawType === '')
    throw new JobRequestError(`${where} has no input type: use text, url, event or job as its third element`);
  const type = (INPUT_TYPES as readonly string[]).includes(rawType)
    ? (rawType as InputType)
    : INPUT_TYPE_ALIASES[rawType];
  if (type === undefined)
    throw new JobRequestError(
      `${where} has the unknown input type ${quote(rawType)}: use text, url, event or job`,
    );
  if ((type === 'event' || type === 'job') && !isHex64(data))
    throw new JobRequestError(
      `${where}: an ${type} input's data must be an event id (64 lowercase hex characters)`,
    );
  if (type === 'url' && !hasProtocol(data, ['http:', 'https:']))
    throw new JobRequestError(`${where}: a url input must be an http:// or https:// URL`);
  if (relay !== '' && !hasProtocol(relay, ['ws:', 'wss:']))
    throw new JobRequestError(
      `${where}: its fourth element is a relay hint and must be a ws:// or wss:// URL (or empty), got ${quote(relay)}`,
    );
  return { data, type, relay, marker };
}

/**
 * Reads a job request and checks every tag NIP-90 defines. Throws JobRequestError, whose message is for the
 * customer. An encrypted request must go through decryptJobRequest first (else code `not-decrypted`).
 * The signature is not checked here (the relay client does it).
 */
export function parseJobRequest(event: NostrEvent, limits: JobRequestLimits = {}): JobRequest {
  const maxInputs = limits.maxInputs ?? DEFAULT_MAX_INPUTS;
  const maxInputBytes = limits.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  if (!isJobRequestKind(event.kind))
    throw new JobRequestError(
      `kind ${String(event.kind)} is not a job request kind (NIP-90 requests are kinds ${JOB_REQUEST_MIN}-${JOB_REQUEST_MAX})`,
    );
  const encrypted = isEncryptedRequest(event);
  const decrypted = decryptedCount(event) !== undefined;
  if (encrypted && !decrypted && !limits.publicTagsOnly)
    throw new JobRequestError(
      'this job request is encrypted (NIP-90 encrypted params) and has not been decrypted yet',
      'not-decrypted',
    );
  const tags = decrypted ? event.tags.slice(0, -1) : event.tags;

  const inputs: JobRequestInput[] = [];
  const paramList: [string, string][] = [];
  const params: Record<string, string> = {};
  const paramValues: Record<string, string[]> = {};
  const relays: string[] = [];
  const providers: string[] = [];
  let output: string | undefined;
  let bidMsats: number | undefined;
  let expiresAt: number | undefined;
  let inputBytes = 0;

  for (const tag of tags) {
    switch (tag[0]) {
      case 'i': {
        if (inputs.length >= maxInputs)
          throw new JobRequestError(
            `the request has ${tags.filter((t) => t[0] === 'i').length} inputs; this service provider accepts at most ${maxInputs}`,
            'too-large',
          );
        const input = parseInput(tag, inputs.length + 1);
        inputBytes += byteLength(input.data);
        inputs.push(input);
        break;
      }
      case 'param': {
        const name = tag[1];
        if (typeof name !== 'string' || name === '')
          throw new JobRequestError(
            `param ${describeTag(tag)} has no name: write ["param", "<name>", "<value>"]`,
          );
        const values = tag.slice(2);
        paramList.push([name, values[0] ?? '']);
        params[name] = values[0] ?? '';
        paramValues[name] = values;
        break;
      }
      case 'output':
        if (output === undefined) output = tag[1] ?? '';
        break;
      case 'bid': {
        if (bidMsats !== undefined) break;
        bidMsats = parseNonNegativeInt(tag[1]);
        if (bidMsats === undefined)
          throw new JobRequestError(
            `the bid must be a non-negative whole number of millisats, e.g. ["bid", "10000"]; got ${quote(String(tag[1]))}`,
          );
        break;
      }
      case 'relays':
        for (const url of tag.slice(1)) {
          if (!hasProtocol(url, ['ws:', 'wss:']))
            throw new JobRequestError(
              `the relays tag lists ${quote(url)}, which is not a ws:// or wss:// URL`,
            );
          if (!relays.includes(url)) relays.push(url);
        }
        break;
      case 'p': {
        const pubkey = tag[1];
        if (!isHex64(pubkey))
          throw new JobRequestError(
            `the p tag ${describeTag(tag)} must name a service provider by its pubkey (64 lowercase hex characters)`,
          );
        if (!providers.includes(pubkey)) providers.push(pubkey);
        break;
      }
      case 'expiration': {
        if (expiresAt !== undefined) break;
        expiresAt = parseNonNegativeInt(tag[1]);
        if (expiresAt === undefined)
          throw new JobRequestError(
            `the expiration tag (NIP-40) must hold a unix time in seconds; got ${quote(String(tag[1]))}`,
          );
        break;
      }
      default:
        break;
    }
  }
  if (inputBytes > maxInputBytes)
    throw new JobRequestError(
      `the inputs total ${inputBytes} bytes; this service provider accepts at most ${maxInputBytes} bytes`,
      'too-large',
    );

  return {
    event,
    id: event.id,
    kind: event.kind,
    customer: event.pubkey,
    inputs,
    params,
    paramList,
    paramValues,
    output: output ?? '',
    bidMsats,
    relays,
    providers,
    encrypted,
    expiresAt,
    content: encrypted ? '' : event.content,
  };
}

/** The decrypted plaintext as tags (structural ones dropped), or undefined when it is not a JSON array of tags. */
function parseDecryptedTags(plaintext: string): string[][] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(plaintext);
  } catch {
    return undefined;
  }
  if (
    !Array.isArray(value) ||
    !value.every((t) => Array.isArray(t) && t.length > 0 && t.every((x) => typeof x === 'string'))
  )
    return undefined;
  return (value as string[][]).filter((t) => t[0] !== 'encrypted' && t[0] !== DECRYPTED_TAG);
}

/**
 * For an encrypted request (NIP-90 "Encrypted Params": an `encrypted` tag, the private tags as a JSON array
 * encrypted to the provider in the content): decrypts the content with the customer's pubkey (NIP-44, then
 * NIP-04, the spec's scheme; the likelier one first) and returns a copy whose tags are the public tags, the
 * decrypted ones, then ["decrypted", n] (see DECRYPTED_TAG). The copy's id and signature are left untouched:
 * it is a logical event, for parseJobRequest; publishedRequest gives back the signed original. An event
 * without an `encrypted` tag, or already decrypted, is returned as is. Throws JobRequestError (code
 * `not-addressed` when its p tags name other providers only, `undecryptable` when nothing decrypts).
 */
export async function decryptJobRequest(event: NostrEvent, signer: Signer): Promise<NostrEvent> {
  if (!isEncryptedRequest(event) || isDecryptedRequest(event)) return event;
  const me = await signer.getPublicKey();
  const addressed = event.tags.filter((t) => t[0] === 'p').map((t) => t[1]);
  if (addressed.length > 0 && !addressed.includes(me))
    throw new JobRequestError(
      'cannot decrypt the request: it is encrypted for another service provider (its p tag names another pubkey)',
      'not-addressed',
    );
  if (event.content === '')
    throw new JobRequestError(
      'cannot decrypt the request: it has an encrypted tag but its content (the encrypted params) is empty',
      'undecryptable',
    );
  const looksNip04 = event.content.includes('?iv=');
  const ciphers = looksNip04 ? [signer.nip04, signer.nip44] : [signer.nip44, signer.nip04];
  let decryptedSome = false;
  for (const cipher of ciphers) {
    let plaintext: string;
    try {
      plaintext = await cipher.decrypt(event.pubkey, event.content);
    } catch {
      continue; // try the other scheme
    }
    decryptedSome = true;
    // NIP-04 has no MAC: a wrong key can decrypt to garbage, so only tags count as success
    const privateTags = parseDecryptedTags(plaintext);
    if (privateTags === undefined) continue;
    // a plain copy: a cached verification mark (nostr-tools' verifiedSymbol) must not vouch for changed tags
    return {
      ...plainEvent(event),
      tags: [...event.tags.map((t) => [...t]), ...privateTags, [DECRYPTED_TAG, String(privateTags.length)]],
    };
  }
  throw new JobRequestError(
    decryptedSome
      ? 'cannot decrypt the request: its decrypted content is not a JSON array of tags ([["i", "...", "text"], ...])'
      : "cannot decrypt the request: its content is not NIP-44 or NIP-04 encrypted to this service provider's key",
    'undecryptable',
  );
}

export interface JobInputSpec {
  data: string;
  type: InputType;
  relay?: string;
  marker?: string;
}

export interface JobRequestSpec {
  kind: number;
  inputs: JobInputSpec[];
  /** As a record (one value per name) or as pairs (order kept, names may repeat). */
  params?: Record<string, string> | [string, string][];
  /** MIME type of the wanted output. */
  output?: string;
  bidMsats?: number;
  relays?: string[];
  providers?: string[];
  content?: string;
  /** NIP-40 expiration, unix seconds. */
  expiresAt?: number;
  /** More tags, appended as given (e.g. ["t", "bitcoin"]). */
  extraTags?: string[][];
  createdAt?: number;
}

function inputTag(input: JobInputSpec): string[] {
  const tag = ['i', input.data, input.type];
  if (input.relay || input.marker) tag.push(input.relay ?? '');
  if (input.marker) tag.push(input.marker);
  return tag;
}

function paramTags(params: JobRequestSpec['params']): string[][] {
  if (params === undefined) return [];
  const pairs = Array.isArray(params) ? params : Object.entries(params);
  return pairs.map(([name, value]) => ['param', name, value]);
}

function checkSpec(spec: Pick<JobRequestSpec, 'kind' | 'bidMsats'>): void {
  if (!isJobRequestKind(spec.kind))
    throw new RangeError(
      `kind ${String(spec.kind)} is not a job request kind (${JOB_REQUEST_MIN}-${JOB_REQUEST_MAX})`,
    );
  if (spec.bidMsats !== undefined && (!Number.isSafeInteger(spec.bidMsats) || spec.bidMsats < 0))
    throw new RangeError(`bidMsats must be a non-negative integer, got ${String(spec.bidMsats)}`);
}

/** The tags that stay public in an encrypted request. */
function publicTags(spec: JobRequestSpec): string[][] {
  const tags: string[][] = [];
  if (spec.output) tags.push(['output', spec.output]);
  if (spec.bidMsats !== undefined) tags.push(['bid', String(spec.bidMsats)]);
  if (spec.relays && spec.relays.length > 0) tags.push(['relays', ...spec.relays]);
  if (spec.expiresAt !== undefined) tags.push(['expiration', String(spec.expiresAt)]);
  return tags;
}

/** A job request template (kind 5000-5999). Throws RangeError on a kind or bid out of range. */
export function buildJobRequest(spec: JobRequestSpec): EventTemplate {
  checkSpec(spec);
  const tags = [...spec.inputs.map(inputTag), ...paramTags(spec.params), ...publicTags(spec)];
  for (const p of spec.providers ?? []) tags.push(['p', p]);
  tags.push(...(spec.extraTags ?? []).map((t) => [...t]));
  return {
    kind: spec.kind,
    created_at: spec.createdAt ?? Math.floor(Date.now() / 1000),
    tags,
    content: spec.content ?? '',
  };
}

/**
 * A job request for one provider whose inputs and params (the `i` and `param` tags, as NIP-90 says) are
 * NIP-44 encrypted to the provider with `signer` (the customer): content = the encrypted JSON array of those
 * tags; public tags: output, bid, relays, expiration, extra tags, ["p", provider], ["encrypted"].
 * `content` of the spec is not used (the content holds the ciphertext).
 */
export async function buildEncryptedJobRequest(
  spec: Omit<JobRequestSpec, 'providers' | 'content'> & { provider: string },
  signer: Signer,
): Promise<EventTemplate> {
  checkSpec(spec);
  if (!isHex64(spec.provider))
    throw new RangeError('provider must be a pubkey of 64 lowercase hex characters');
  const secret = [...spec.inputs.map(inputTag), ...paramTags(spec.params)];
  const content = await signer.nip44.encrypt(spec.provider, JSON.stringify(secret));
  return {
    kind: spec.kind,
    created_at: spec.createdAt ?? Math.floor(Date.now() / 1000),
    tags: [
      ...publicTags(spec),
      ...(spec.extraTags ?? []).map((t) => [...t]),
      ['p', spec.provider],
      ['encrypted'],
    ],
    content,
  };
}
