/**
 * NIP-89 handler information (kind 31990): how an agent announces the job kinds it serves, with kind 0-style
 * metadata in the content and, project-defined, its prices as `price` tags and the parameters each kind
 * takes as `param-schema` tags (a JSON schema; docs/protocol.md).
 */
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import { DvmEventError, HANDLER_INFO_KIND, parseNonNegativeInt, quote } from './kinds.ts';

export class HandlerInfoError extends DvmEventError {
  constructor(message: string) {
    super(message);
    this.name = 'HandlerInfoError';
  }
}

/** Kind 0-style metadata (NIP-01, NIP-24), plus the data-vending-machines registry's `encryptionSupported`. */
export interface HandlerMetadata {
  name: string;
  display_name?: string;
  about?: string;
  picture?: string;
  website?: string;
  nip05?: string;
  lud16?: string;
  /** Whether the handler accepts NIP-90 encrypted params. */
  encryptionSupported?: boolean;
}

export type PriceUnit = 'job' | 'token' | 'second';
export const PRICE_UNITS: readonly PriceUnit[] = ['job', 'token', 'second'];

/** Project-defined: ["price", "<kind>", "<msats>", "<unit>"], what one unit of a job of that kind costs. */
export interface HandlerPrice {
  kind: number;
  msats: number;
  unit: PriceUnit;
}

/**
 * Project-defined: ["param-schema", "<kind>", "<JSON schema>"], the `param` tags a job of that kind reads, as a
 * JSON schema of an object keyed by param name (values travel as strings; the schema types them as read).
 */
export interface ParamSchema {
  kind: number;
  schema: Readonly<Record<string, unknown>>;
}

/** The longest schema text a param-schema tag may hold. */
export const MAX_PARAM_SCHEMA_CHARS = 16_384;

export interface HandlerInfoSpec {
  /** The `d` tag: which of the pubkey's handler announcements this is (one per agent is enough). */
  d: string;
  /** The job request kinds served: one `k` tag each. */
  kinds: number[];
  metadata: HandlerMetadata;
  pricing?: { kind: number; msats: number; unit?: PriceUnit }[];
  /** At most one parameter schema per announced kind. */
  paramSchemas?: readonly ParamSchema[];
  /** More tags, appended as given (e.g. ["t", "bitcoin"]). */
  extraTags?: string[][];
  createdAt?: number;
}

const METADATA_STRINGS = ['name', 'display_name', 'about', 'picture', 'website', 'nip05', 'lud16'] as const;

function isKindNumber(k: number): boolean {
  return Number.isInteger(k) && k >= 0 && k <= 65535;
}

/**
 * A kind 31990 template: ["d", d], ["k", kind] per kind (in the given order, without repeats), ["price",
 * kind, msats, unit] per price, ["param-schema", kind, schema as canonical JSON] per schema, extra tags; content
 * = the metadata as JSON. Throws RangeError on an empty d, no kinds, a bad kind, a price or a schema for a kind
 * not served, two schemas for one kind, or a schema that is not a JSON object within MAX_PARAM_SCHEMA_CHARS.
 */
export function buildHandlerInfo(spec: HandlerInfoSpec): EventTemplate {
  if (spec.d === '') throw new RangeError('the d tag of a handler announcement must not be empty');
  if (spec.kinds.length === 0) throw new RangeError('a handler announcement needs at least one kind');
  const kinds: number[] = [];
  for (const k of spec.kinds) {
    if (!isKindNumber(k)) throw new RangeError(`kind ${String(k)} is not an event kind`);
    if (!kinds.includes(k)) kinds.push(k);
  }
  const tags: string[][] = [['d', spec.d], ...kinds.map((k) => ['k', String(k)])];
  for (const p of spec.pricing ?? []) {
    if (!kinds.includes(p.kind)) throw new RangeError(`a price for kind ${p.kind}, which is not announced`);
    if (!Number.isSafeInteger(p.msats) || p.msats < 0)
      throw new RangeError(`the price of kind ${p.kind} must be a non-negative integer of millisats`);
    tags.push(['price', String(p.kind), String(p.msats), p.unit ?? 'job']);
  }
  const schemaKinds = new Set<number>();
  for (const p of spec.paramSchemas ?? []) {
    if (!kinds.includes(p.kind))
      throw new RangeError(`a parameter schema for kind ${p.kind}, which is not announced`);
    if (schemaKinds.has(p.kind)) throw new RangeError(`two parameter schemas for kind ${p.kind}`);
    schemaKinds.add(p.kind);
    if (!isJsonObject(p.schema))
      throw new RangeError(`the parameter schema of kind ${p.kind} must be a JSON object`);
    const text = canonical(p.schema);
    if (text.length > MAX_PARAM_SCHEMA_CHARS)
      throw new RangeError(
        `the parameter schema of kind ${p.kind} is ${text.length} characters; at most ${MAX_PARAM_SCHEMA_CHARS}`,
      );
    tags.push(['param-schema', String(p.kind), text]);
  }
  tags.push(...(spec.extraTags ?? []).map((t) => [...t]));
  const metadata: Record<string, unknown> = {};
  for (const key of METADATA_STRINGS)
    if (spec.metadata[key] !== undefined) metadata[key] = spec.metadata[key];
  if (spec.metadata.encryptionSupported !== undefined)
    metadata.encryptionSupported = spec.metadata.encryptionSupported;
  return {
    kind: HANDLER_INFO_KIND,
    created_at: spec.createdAt ?? Math.floor(Date.now() / 1000),
    tags,
    content: JSON.stringify(metadata),
  };
}

export interface HandlerInfo {
  pubkey: string;
  d: string;
  kinds: number[];
  /** From the content; `name` is '' when the content is empty (NIP-89: then the author's kind 0 applies). */
  metadata: HandlerMetadata;
  pricing: HandlerPrice[];
  paramSchemas: ParamSchema[];
  createdAt: number;
}

function parseMetadata(content: string): HandlerMetadata {
  if (content.trim() === '') return { name: '' };
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch {
    value = undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new HandlerInfoError(
      'the content of a handler announcement must be empty or a JSON object of metadata',
    );
  const v = value as Record<string, unknown>;
  const out: HandlerMetadata = { name: typeof v.name === 'string' ? v.name : '' };
  for (const key of METADATA_STRINGS) {
    const field = v[key];
    if (key !== 'name' && typeof field === 'string') out[key] = field;
  }
  if (typeof v.encryptionSupported === 'boolean') out.encryptionSupported = v.encryptionSupported;
  return out;
}

/**
 * Reads a kind 31990 event. Throws HandlerInfoError on a missing d, a malformed k, price or param-schema tag
 * (a kind that is not announced, a second schema for a kind, text that is not a JSON object or is too long),
 * bad content.
 */
export function parseHandlerInfo(event: NostrEvent): HandlerInfo {
  if (event.kind !== HANDLER_INFO_KIND)
    throw new HandlerInfoError(
      `kind ${String(event.kind)} is not a handler announcement (NIP-89 kind ${HANDLER_INFO_KIND})`,
    );
  const d = event.tags.find((t) => t[0] === 'd')?.[1];
  if (d === undefined) throw new HandlerInfoError('a handler announcement needs a d tag');
  const kinds: number[] = [];
  const pricing: HandlerPrice[] = [];
  const paramSchemas: ParamSchema[] = [];
  for (const t of event.tags) {
    if (t[0] === 'k') {
      const k = parseNonNegativeInt(t[1]);
      if (k === undefined || !isKindNumber(k))
        throw new HandlerInfoError(`the k tag ${quote(String(t[1]))} is not an event kind`);
      if (!kinds.includes(k)) kinds.push(k);
    } else if (t[0] === 'price') {
      const kind = parseNonNegativeInt(t[1]);
      const msats = parseNonNegativeInt(t[2]);
      const unit = t[3] ?? 'job';
      if (kind === undefined || msats === undefined || !(PRICE_UNITS as readonly string[]).includes(unit))
        throw new HandlerInfoError(
          `the price tag ${quote(JSON.stringify(t))} must be ["price", "<kind>", "<msats>", "job"|"token"|"second"]`,
        );
      pricing.push({ kind, msats, unit: unit as PriceUnit });
    } else if (t[0] === 'param-schema') {
      paramSchemas.push(parseParamSchema(t, paramSchemas));
    }
  }
  for (const p of paramSchemas)
    if (!kinds.includes(p.kind))
      throw new HandlerInfoError(
        `a param-schema tag for kind ${p.kind}, which the announcement has no k tag for`,
      );
  return {
    pubkey: event.pubkey,
    d,
    kinds,
    metadata: parseMetadata(event.content),
    pricing,
    paramSchemas,
    createdAt: event.created_at,
  };
}

function parseParamSchema(tag: readonly string[], seen: readonly ParamSchema[]): ParamSchema {
  const shape = 'must be ["param-schema", "<kind>", "<JSON schema object>"]';
  const kind = parseNonNegativeInt(tag[1]);
  const text = tag[2];
  if (kind === undefined || !isKindNumber(kind) || text === undefined)
    throw new HandlerInfoError(`the param-schema tag ${quote(JSON.stringify(tag))} ${shape}`);
  if (seen.some((p) => p.kind === kind)) throw new HandlerInfoError(`two param-schema tags for kind ${kind}`);
  if (text.length > MAX_PARAM_SCHEMA_CHARS)
    throw new HandlerInfoError(
      `the param-schema of kind ${kind} is ${text.length} characters; at most ${MAX_PARAM_SCHEMA_CHARS}`,
    );
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch {
    schema = undefined;
  }
  if (!isJsonObject(schema))
    throw new HandlerInfoError(
      `the param-schema tag of kind ${kind} ${shape}: ${quote(text)} is not a JSON object`,
    );
  return { kind, schema };
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** JSON with object keys sorted, for comparing values regardless of key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function canonicalContent(content: string): string {
  try {
    return canonical(JSON.parse(content));
  } catch {
    return content;
  }
}

function tagSet(tags: readonly (readonly string[])[]): string {
  return tags
    .map((t) => JSON.stringify(t))
    .sort()
    .join('\n');
}

/**
 * Whether the published announcement already says what `template` says: same kind, same tags in any order,
 * same content (as JSON, key order aside); created_at is ignored. An agent republishes only when this is false.
 */
export function sameHandlerInfo(template: EventTemplate, published: NostrEvent): boolean {
  return (
    template.kind === published.kind &&
    tagSet(template.tags) === tagSet(published.tags) &&
    canonicalContent(template.content) === canonicalContent(published.content)
  );
}
