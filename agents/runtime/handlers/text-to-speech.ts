/**
 * Kind 5250, text to speech (the data-vending-machines list): the input text (a `text` input, or an `event`
 * or `job` input resolved to its content, or a url fetched as text) is spoken by the agent's `Tts` engine,
 * and the result's content is a URL of the WAV file (16-bit PCM mono, 16 kHz), which the instance serves
 * itself (web/media-route.ts: `/media/<sha256>.wav`). Param `language`: English only (the shipped voices).
 */
import {
  type HandlerContext,
  type HandlerOutput,
  type JobHandler,
  type JobInput,
  JobInputError,
} from '../../../dvm/handler.ts';
import { VoiceInputError } from '../../../voice/errors.ts';
import { checkText, DEFAULT_MAX_TEXT_CHARS, type Tts } from '../../../voice/tts.ts';
import { inputText, shown } from './params.ts';

/** Keeps a WAV file where clients can fetch it and says where: its URL. */
export interface AudioPublisher {
  publish(wav: Uint8Array): Promise<string>;
}

export interface TextToSpeechOptions {
  tts: Tts;
  publisher: AudioPublisher;
  /** The longest text spoken in one job (default 5,000 characters: voice/tts.ts). */
  maxChars?: number;
}

/** The handler without engines (the persona file's check, `timmy job replay`): what it answers. */
export const SPEECH_NOT_ENABLED =
  'text-to-speech cannot run here: it needs the voice engines of a running instance ' +
  '(apt-get install flite; docs/voice.md)';

export const textToSpeechParamSchema: Readonly<Record<string, unknown>> = {
  type: 'object',
  properties: {
    language: { type: 'string', enum: ['en'], description: 'the language of the speech (English only here)' },
  },
};

function checkLanguage(job: JobInput): void {
  const language = job.params.language?.trim().toLowerCase() ?? '';
  if (language !== '' && language !== 'en' && !language.startsWith('en-'))
    throw new JobInputError(
      `language "${shown(language)}" is not supported: this agent speaks English only (["param", "language", "en"])`,
    );
}

export function createTextToSpeechHandler(options: TextToSpeechOptions): JobHandler {
  const maxChars = options.maxChars ?? DEFAULT_MAX_TEXT_CHARS;
  return {
    name: 'text-to-speech',
    kinds: [5250],
    needsLlm: false,
    paramSchema: textToSpeechParamSchema,
    async run(job: JobInput, ctx: HandlerContext): Promise<HandlerOutput> {
      checkLanguage(job);
      const joined = inputText(
        job,
        '\n\n',
        'a text-to-speech job needs the text to speak: ["i", "<text>", "text"] (or an event or job input)',
      );
      let wav: Uint8Array;
      try {
        const text = checkText(joined, maxChars);
        ctx.progress(`speaking ${text.length} characters`);
        wav = await options.tts.synthesize(text, { signal: ctx.signal });
      } catch (err) {
        if (err instanceof VoiceInputError) throw new JobInputError(err.message);
        throw err;
      }
      const url = await options.publisher.publish(wav);
      ctx.logger.debug({ job: job.id, engine: options.tts.name, bytes: wav.length, url }, 'speech published');
      return { content: url };
    },
  };
}

/** The handler of the persona file's check and of replays: the runtime replaces it with one that has engines. */
export const textToSpeech: JobHandler = {
  name: 'text-to-speech',
  kinds: [5250],
  needsLlm: false,
  paramSchema: textToSpeechParamSchema,
  run: () => Promise.reject(new JobInputError(SPEECH_NOT_ENABLED)),
};
