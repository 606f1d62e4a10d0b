/**
 * The Wyoming events this server reads and writes (docs/voice.md, "Home Assistant (Wyoming)"): readers that
 * check a client's fields, builders for the answers.
 */
import type { AudioFormat } from './audio.ts';
import type { WyomingEvent } from './framing.ts';

/** A client's request refused for what it asked (the connection stays usable). */
export class WyomingRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'WyomingRequestError';
  }
}

function optionalString(data: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = data[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string')
    throw new WyomingRequestError('bad-request', `"${key}" of ${where} must be a string`);
  return v;
}

export interface TranscribeRequest {
  name?: string;
  language?: string;
}

export function readTranscribe(data: Record<string, unknown>): TranscribeRequest {
  const name = optionalString(data, 'name', 'transcribe');
  const language = optionalString(data, 'language', 'transcribe');
  return { ...(name ? { name } : {}), ...(language ? { language } : {}) };
}

export interface SynthesizeRequest {
  text: string;
  voice?: { name?: string; language?: string; speaker?: string };
}

export function readSynthesize(data: Record<string, unknown>): SynthesizeRequest {
  const text = data.text;
  if (typeof text !== 'string')
    throw new WyomingRequestError('bad-request', 'synthesize needs "text", a string');
  const v = data.voice;
  if (v === undefined || v === null) return { text };
  if (typeof v !== 'object' || Array.isArray(v))
    throw new WyomingRequestError('bad-request', '"voice" of synthesize must be an object');
  const voice = v as Record<string, unknown>;
  const out: NonNullable<SynthesizeRequest['voice']> = {};
  for (const key of ['name', 'language', 'speaker'] as const) {
    const s = optionalString(voice, key, 'synthesize.voice');
    if (s) out[key] = s;
  }
  return { text, voice: out };
}

/** True when `language` (`en`, `en-US`, `en_GB`) is one of `languages` or shares its base language. */
export function speaks(languages: readonly string[], language: string): boolean {
  const base = (l: string) => l.toLowerCase().split(/[-_]/)[0];
  return languages.some((l) => l.toLowerCase() === language.toLowerCase() || base(l) === base(language));
}

export const describeEvent = (): WyomingEvent => ({ type: 'describe', data: {} });

export function transcriptEvent(text: string): WyomingEvent {
  return { type: 'transcript', data: { text } };
}

export function errorEvent(text: string, code: string): WyomingEvent {
  return { type: 'error', data: { text, code } };
}

export function audioStartEvent(fmt: AudioFormat): WyomingEvent {
  return { type: 'audio-start', data: { rate: fmt.rate, width: fmt.width, channels: fmt.channels } };
}

export function audioChunkEvent(fmt: AudioFormat, payload: Uint8Array): WyomingEvent {
  return { type: 'audio-chunk', data: { rate: fmt.rate, width: fmt.width, channels: fmt.channels }, payload };
}

export const audioStopEvent = (): WyomingEvent => ({ type: 'audio-stop', data: {} });

export function pongEvent(data: Record<string, unknown>): WyomingEvent {
  return { type: 'pong', data: typeof data.text === 'string' ? { text: data.text } : {} };
}
