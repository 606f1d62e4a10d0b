/**
 * Kind 5000 with speech: an `i` tag of type `url` naming a WAV file (16-bit PCM mono, 16 kHz or an integer
 * multiple) is fetched by this handler itself (`fetchesUrls`: audio is larger than text inputs; the same
 * SSRF rules and timeout, its own size cap) and transcribed with the agent's `Stt` engine; the result's
 * content is the transcript. Inputs that are text (a text input, an HTML page, JSON) are extracted as the
 * text-extraction handler does, so an agent serving kind 5000 with this handler serves every kind 5000
 * job. Params (the data-vending-machines list, kind 5000): `range` (start and end in seconds),
 * `alignment` (raw, segment, word), `language` (English only: the shipped engine's model), output
 * `text/plain` (default) or `text/vtt` (timed cues, from the engine's word times).
 */
import {
  type HandlerContext,
  type HandlerOutput,
  type JobHandler,
  type JobInput,
  JobInputError,
  type ResolvedInput,
} from '../../../dvm/handler.ts';
import { VoiceInputError } from '../../../voice/errors.ts';
import type { Stt, SttWord } from '../../../voice/stt.ts';
import {
  DEFAULT_MAX_SECONDS,
  durationSeconds,
  encodeWav,
  type PcmAudio,
  parseWav,
  VOICE_SAMPLE_RATE,
} from '../../../voice/wav.ts';
import { shown } from './params.ts';
import { extractText } from './text-extraction.ts';

/** What fetches an audio url (agents/runtime/url-input.ts: public addresses only unless allowed, timed out). */
export interface AudioFetcher {
  fetchBytes(
    url: string,
    budget: number,
    signal: AbortSignal,
  ): Promise<{ bytes: Uint8Array; contentType: string }>;
}

export interface SpeechToTextOptions {
  stt: Stt;
  fetcher: AudioFetcher;
  /** The longest audio transcribed, in seconds (default 600: voice/wav.ts's limit). */
  maxSeconds?: number;
  /** Text inputs (web pages and the like) larger than this are refused (the instance's `dvm.maxInputBytes`). */
  maxTextBytes?: number;
}

/**
 * The handler without engines: the persona file's check and `timmy job replay` (which cannot transcribe again:
 * the audio is not recorded) use it; a running voice agent always has the one built with its engines.
 */
export const VOICE_NOT_ENABLED =
  'speech-to-text cannot run here: it needs the voice engines (apt-get install pocketsphinx ' +
  'pocketsphinx-en-us flite; docs/voice.md) and, in a replay, the audio, which is not recorded';

/** The bytes a WAV of `seconds` at the voice rate takes (a 44-byte header, 16-bit mono), with room for metadata. */
export function maxAudioBytes(seconds = DEFAULT_MAX_SECONDS): number {
  return 44 + seconds * VOICE_SAMPLE_RATE * 2 + 64 * 1024;
}

const OUTPUTS = ['text/plain', 'text/vtt'] as const;
const ALIGNMENTS = ['raw', 'segment', 'word'] as const;
type Alignment = (typeof ALIGNMENTS)[number];
/** Words further apart than this start a new cue in a segment-aligned VTT. */
const SEGMENT_GAP_MS = 600;

export const speechToTextParamSchema: Readonly<Record<string, unknown>> = {
  type: 'object',
  properties: {
    range: {
      type: 'array',
      items: { type: 'number', minimum: 0 },
      minItems: 2,
      maxItems: 2,
      description: 'start and end, in seconds, of the audio to transcribe',
    },
    alignment: { type: 'string', enum: [...ALIGNMENTS], description: 'cues of a text/vtt output' },
    language: { type: 'string', enum: ['en'], description: 'the language spoken (English only here)' },
  },
};

interface Request {
  range: { start: number; end: number } | undefined;
  alignment: Alignment;
  vtt: boolean;
}

function readRequest(job: JobInput): Request {
  const output = (job.output.split(';')[0] ?? '').trim().toLowerCase();
  if (output !== '' && !(OUTPUTS as readonly string[]).includes(output))
    throw new JobInputError(`output "${shown(job.output)}" is not supported: ${OUTPUTS.join(' or ')}`);
  const language = job.params.language?.trim().toLowerCase() ?? '';
  if (language !== '' && language !== 'en' && !language.startsWith('en-'))
    throw new JobInputError(
      `language "${shown(language)}" is not supported: this agent transcribes English only (["param", "language", "en"])`,
    );
  const alignment = (job.params.alignment?.trim().toLowerCase() || 'raw') as Alignment;
  if (!ALIGNMENTS.includes(alignment))
    throw new JobInputError(
      `param "alignment" must be one of ${ALIGNMENTS.join(', ')}, got "${shown(job.params.alignment ?? '')}"`,
    );
  return { range: readRange(job), alignment, vtt: output === 'text/vtt' };
}

function readRange(job: JobInput): Request['range'] {
  const values = job.paramValues?.range ?? (job.params.range !== undefined ? [job.params.range] : undefined);
  if (values === undefined) return undefined;
  const nums = values.map((v) => (/^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : Number.NaN));
  const [start, end] = nums;
  if (
    nums.length !== 2 ||
    start === undefined ||
    end === undefined ||
    !(end > start) ||
    nums.some(Number.isNaN)
  )
    throw new JobInputError(
      `param "range" needs a start and an end in seconds, the end after the start, e.g. ["param", "range", "30", "60"]; got ${JSON.stringify(values.map(shown))}`,
    );
  return { start, end };
}

/** The part of the audio the range names (the range relative to the audio, cut to its length). */
function cut(audio: PcmAudio, range: Request['range'], url: string): PcmAudio {
  if (!range) return audio;
  const length = durationSeconds(audio);
  if (range.start >= length)
    throw new JobInputError(
      `param "range" starts at ${range.start} s but the audio at ${url} is ${length.toFixed(1)} s long`,
    );
  const from = Math.floor(range.start * audio.sampleRate);
  const to = Math.min(audio.samples.length, Math.ceil(range.end * audio.sampleRate));
  return { sampleRate: audio.sampleRate, samples: audio.samples.subarray(from, to) };
}

/** Audio: a WAV by its first bytes, or anything labelled audio (a WAV is all we read: others are refused). */
function isAudio(bytes: Uint8Array, contentType: string): boolean {
  const riff = bytes.length >= 4 && Buffer.from(bytes.subarray(0, 4)).toString('latin1') === 'RIFF';
  return riff || /^\s*audio\//i.test(contentType);
}

function timestamp(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = Math.floor((total % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(total % 1000, 3)}`;
}

/** WebVTT cues of the words: one per word (`word`), per run of words without a pause (`segment`), or one (`raw`). */
export function toVtt(words: readonly SttWord[], text: string, alignment: Alignment, offsetMs = 0): string {
  const cues: { start: number; end: number; text: string }[] = [];
  if (words.length === 0) {
    if (text.trim() !== '') cues.push({ start: 0, end: 0, text });
  } else if (alignment === 'word') {
    for (const w of words) cues.push({ start: w.startMs, end: w.endMs, text: w.word });
  } else {
    for (const w of words) {
      const last = cues[cues.length - 1];
      if (last && (alignment === 'raw' || w.startMs - last.end <= SEGMENT_GAP_MS)) {
        last.end = w.endMs;
        last.text += ` ${w.word}`;
      } else cues.push({ start: w.startMs, end: w.endMs, text: w.word });
    }
  }
  const body = cues.map(
    (c) => `${timestamp(c.start + offsetMs)} --> ${timestamp(c.end + offsetMs)}\n${c.text}`,
  );
  return ['WEBVTT', ...body].join('\n\n');
}

export function createSpeechToTextHandler(options: SpeechToTextOptions): JobHandler {
  const maxSeconds = options.maxSeconds ?? DEFAULT_MAX_SECONDS;
  const budget = maxAudioBytes(maxSeconds);
  const maxText = options.maxTextBytes ?? 65_536;

  const transcribe = async (input: ResolvedInput, req: Request, ctx: HandlerContext): Promise<string> => {
    const { bytes, contentType } = await options.fetcher.fetchBytes(input.data, budget, ctx.signal);
    if (!isAudio(bytes, contentType)) {
      if (bytes.length > maxText)
        throw new JobInputError(
          `input url ${input.data} is ${bytes.length} bytes of text; this instance accepts at most ${maxText} bytes of text input`,
        );
      return extractText({ contentType, text: Buffer.from(bytes).toString('utf8') });
    }
    try {
      const audio = cut(
        parseWav(bytes, { sampleRate: VOICE_SAMPLE_RATE, maxSeconds }),
        req.range,
        input.data,
      );
      ctx.progress(`transcribing ${durationSeconds(audio).toFixed(1)} s of audio`);
      const t = await options.stt.transcribe(encodeWav(audio), { signal: ctx.signal });
      ctx.logger.debug(
        { url: input.data, engine: options.stt.name, ms: Math.round(t.ms) },
        'audio transcribed',
      );
      if (!req.vtt) return t.text;
      return toVtt(t.words ?? [], t.text, req.alignment, (req.range?.start ?? 0) * 1000);
    } catch (err) {
      if (err instanceof VoiceInputError)
        throw new JobInputError(
          `input url ${input.data}${contentType ? ` (${contentType})` : ''}: ${err.message}`,
        );
      throw err;
    }
  };

  return {
    name: 'speech-to-text',
    kinds: [5000],
    needsLlm: false,
    fetchesUrls: true,
    paramSchema: speechToTextParamSchema,
    async run(job: JobInput, ctx: HandlerContext): Promise<HandlerOutput> {
      if (job.inputs.length === 0)
        throw new JobInputError('a speech-to-text job needs an input: ["i", "<url of a WAV file>", "url"]');
      const req = readRequest(job);
      const parts: string[] = [];
      for (const input of job.inputs) {
        const text = input.type === 'url' ? await transcribe(input, req, ctx) : extractText(input);
        parts.push(text.trim());
      }
      const content = parts.filter((p) => p !== '').join('\n\n');
      if (content === '') throw new JobInputError('no speech was recognized in the audio');
      return { content };
    },
  };
}

/** The handler of the persona file's check and of replays: the runtime replaces it with one that has engines. */
export const speechToText: JobHandler = {
  name: 'speech-to-text',
  kinds: [5000],
  needsLlm: false,
  fetchesUrls: true,
  paramSchema: speechToTextParamSchema,
  run: () => Promise.reject(new JobInputError(VOICE_NOT_ENABLED)),
};
