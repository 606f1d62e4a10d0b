/**
 * NIP-90 (Data Vending Machines) and NIP-89 (handler information) kind numbers, the registry of the job kinds
 * this project knows, and the few checks every dvm/ parser shares. Kinds defined by this project (not by a
 * NIP nor the data-vending-machines registry) are marked "project-defined"; docs/protocol.md describes them.
 */
import { Handlerinformation, JobFeedback, JobRequest, JobResult } from 'nostr-tools/kinds';
import type { NostrEvent } from '../core/nostr.ts';

export const JOB_REQUEST_MIN = 5000;
export const JOB_REQUEST_MAX: number = JobRequest;
export const JOB_RESULT_MIN = 6000;
export const JOB_RESULT_MAX: number = JobResult;
/** A result's kind is its request's kind plus this. */
export const RESULT_KIND_OFFSET = 1000;
export const FEEDBACK_KIND: number = JobFeedback;
export const HANDLER_INFO_KIND: number = Handlerinformation;

/**
 * Project-defined test job: the result is the input. 5700 is outside the ranges the public
 * data-vending-machines registry uses (5600 there is "Wasm execution"; see docs/protocol.md).
 */
export const ECHO_KIND = 5700;
/**
 * Project-defined: search an agent's memory and answer with the matching memories and their sources. The
 * registry's search kinds (5302 content, 5303 people) answer with lists of Nostr events or profiles; a
 * memory is neither (docs/protocol.md).
 */
export const MEMORY_SEARCH_KIND = 5701;
/** Project-defined, regular: the coordinator assigns a job request to one agent. */
export const ASSIGNMENT_KIND = 7600;
/** Project-defined, regular: a desk hands a job request to a peer's desk (docs/federation.md). */
export const FORWARD_KIND = 7620;
/** Project-defined, ephemeral: an agent says it is alive, what it serves and how busy it is. */
export const HEARTBEAT_KIND = 20600;

export interface JobParamInfo {
  name: string;
  description: string;
}

export interface JobKindInfo {
  kind: number;
  /** Short machine name, e.g. "summarization". */
  name: string;
  /** Human title, e.g. "Summarization". */
  title: string;
  description: string;
  /** What the job expects as inputs (`i` tags). */
  inputs: string;
  params: JobParamInfo[];
  /** What the result's content is. */
  output: string;
  /** Whether a good answer normally needs a language model (a handler may do without, e.g. extractive summaries). */
  needsLlm: boolean;
}

export const JOB_KINDS: readonly JobKindInfo[] = [
  {
    kind: 5000,
    name: 'text-extraction',
    title: 'Text extraction',
    description:
      'Extracts the text of an input: a web page or document as plain text, or speech as a transcript.',
    inputs: 'One or more inputs, usually a url; the marker may name the MIME type of the input.',
    params: [
      { name: 'range', description: 'For audio: the start and end, in seconds, to transcribe (two values).' },
      {
        name: 'alignment',
        description: 'For audio: label alignment of the transcript, "raw", "segment" or "word".',
      },
    ],
    output: 'The text (text/plain by default; text/markdown or text/vtt when the output tag asks for them).',
    needsLlm: false,
  },
  {
    kind: 5001,
    name: 'summarization',
    title: 'Summarization',
    description: 'Summarizes the inputs.',
    inputs:
      'One or more inputs whose content is already text (text, event, job, or a url of a text document).',
    params: [
      { name: 'length', description: 'The desired length, in words or paragraphs (e.g. "3 paragraphs").' },
    ],
    output: 'The summary as text/plain or text/markdown.',
    needsLlm: true,
  },
  {
    kind: 5002,
    name: 'translation',
    title: 'Translation',
    description: 'Translates the inputs into another language.',
    inputs: 'One or more inputs whose content is already text.',
    params: [{ name: 'language', description: 'The target language as a language code, e.g. "es".' }],
    output: 'The translated text as text/plain.',
    needsLlm: true,
  },
  {
    kind: 5050,
    name: 'text-generation',
    title: 'Text generation',
    description: 'Generates text from a prompt with a language model.',
    inputs:
      'The prompt as a text input (some clients write the input type "prompt"); more inputs add context.',
    params: [
      { name: 'model', description: 'The model to use, when the provider offers several.' },
      { name: 'max_tokens', description: 'The most tokens to generate.' },
      { name: 'temperature', description: 'Sampling temperature; lower is more deterministic.' },
      { name: 'top_k', description: 'Sample only among the k likeliest tokens.' },
      { name: 'top_p', description: 'Nucleus sampling: the smallest token set whose probability exceeds p.' },
      { name: 'frequency_penalty', description: 'Discourages repeating tokens already used.' },
    ],
    output: 'The generated text as text/plain or text/markdown.',
    needsLlm: true,
  },
  {
    kind: 5250,
    name: 'text-to-speech',
    title: 'Text-to-speech',
    description: 'Reads the input text aloud and returns the audio.',
    inputs: 'The text to speak (a text input, or an event or job whose content is the text).',
    params: [{ name: 'language', description: 'The language of the speech, e.g. "en".' }],
    output: 'A URL of the generated audio.',
    needsLlm: false,
  },
  {
    kind: ECHO_KIND,
    name: 'echo',
    title: 'Echo (project-defined test job)',
    description: 'Returns its input unchanged: checks that the network works end to end. Project-defined.',
    inputs: 'Any inputs; their text is returned.',
    params: [],
    output: 'The inputs as text/plain.',
    needsLlm: false,
  },
  {
    kind: MEMORY_SEARCH_KIND,
    name: 'memory-search',
    title: 'Memory search (project-defined)',
    description:
      "Searches an agent's memory by meaning and answers with the matching memories and their sources. Project-defined.",
    inputs: 'The query as a text input (several are joined).',
    params: [
      { name: 'k', description: 'How many memories to return, 1 to 50 (default 5).' },
      {
        name: 'agent',
        description: "The namespace searched: an agent's name (default the serving agent's).",
      },
      {
        name: 'kind',
        description: 'Only memories of these kinds: episodic, semantic, procedural (comma-separated).',
      },
      { name: 'hybrid', description: '"true": fuse the vector search with keyword search (BM25).' },
    ],
    output:
      'JSON {query, agent, hybrid, results: [{id, agent, kind, createdAt, score, content, source}]}, or markdown.',
    needsLlm: false,
  },
];

/** The registry entry of a job request kind, if this project knows it. */
export function jobKindInfo(kind: number): JobKindInfo | undefined {
  return JOB_KINDS.find((k) => k.kind === kind);
}

export function isJobRequestKind(kind: number): boolean {
  return Number.isInteger(kind) && kind >= JOB_REQUEST_MIN && kind <= JOB_REQUEST_MAX;
}

export function isJobResultKind(kind: number): boolean {
  return Number.isInteger(kind) && kind >= JOB_RESULT_MIN && kind <= JOB_RESULT_MAX;
}

/** The result kind of a request kind (5001 → 6001). Throws RangeError for a kind outside 5000-5999. */
export function resultKindFor(requestKind: number): number {
  if (!isJobRequestKind(requestKind))
    throw new RangeError(
      `kind ${String(requestKind)} is not a job request kind (${JOB_REQUEST_MIN}-${JOB_REQUEST_MAX})`,
    );
  return requestKind + RESULT_KIND_OFFSET;
}

/** The request kind of a result kind (6001 → 5001). Throws RangeError for a kind outside 6000-6999. */
export function requestKindFor(resultKind: number): number {
  if (!isJobResultKind(resultKind))
    throw new RangeError(
      `kind ${String(resultKind)} is not a job result kind (${JOB_RESULT_MIN}-${JOB_RESULT_MAX})`,
    );
  return resultKind - RESULT_KIND_OFFSET;
}

/**
 * What every dvm/ parser throws for an event it cannot read. The message names what is wrong and how it
 * should look, so it can be sent as is in a NIP-90 `error` feedback.
 */
export class DvmEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DvmEventError';
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

/** 64 lowercase hex characters: an event id or a public key. */
export function isHex64(value: unknown): value is string {
  return typeof value === 'string' && HEX64.test(value);
}

/** A non-negative safe integer written in decimal digits only ("0", "21000"), else undefined. */
export function parseNonNegativeInt(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,16}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Whether `url` parses as a URL with one of `protocols` (e.g. ['ws:', 'wss:']). */
export function hasProtocol(url: string, protocols: readonly string[]): boolean {
  try {
    return protocols.includes(new URL(url).protocol);
  } catch {
    return false;
  }
}

/** Shortens text shown inside an error message. */
export function quote(value: string, max = 80): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

/** An `amount` tag (NIP-90): millisats and an optional bolt11 invoice. Throws RangeError on a bad amount. */
export function amountTag(msats: number, bolt11?: string): string[] {
  if (!Number.isSafeInteger(msats) || msats < 0)
    throw new RangeError(`amount must be a non-negative integer of millisats, got ${String(msats)}`);
  return bolt11 ? ['amount', String(msats), bolt11] : ['amount', String(msats)];
}

/** The first `amount` tag as {amountMsats, bolt11}; throws `make(message)` when it is malformed. */
export function readAmountTag(
  tags: readonly (readonly string[])[],
  make: (message: string) => Error,
): { amountMsats?: number; bolt11?: string } {
  const tag = tags.find((t) => t[0] === 'amount');
  if (tag === undefined) return {};
  const msats = parseNonNegativeInt(tag[1]);
  if (msats === undefined)
    throw make(`the amount tag must hold a non-negative integer of millisats, got ${quote(String(tag[1]))}`);
  const bolt11 = tag[2];
  return bolt11 ? { amountMsats: msats, bolt11 } : { amountMsats: msats };
}

/**
 * The customer named by a feedback or result: the first `p` tag that is not the event's author, else the
 * first `p` tag. (NDK copies the request's `p` tags into its feedback and results, so a provider's event may
 * tag the provider itself before the customer.)
 */
export function customerTag(event: Pick<NostrEvent, 'pubkey' | 'tags'>): string | undefined {
  const ps = event.tags.filter((t) => t[0] === 'p').map((t) => t[1]);
  return ps.find((p) => p !== event.pubkey) ?? ps[0];
}
