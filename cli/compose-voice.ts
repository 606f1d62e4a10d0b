/**
 * The voice jobs' handlers (kinds 5000 and 5250, docs/voice.md "Voice jobs on Nostr"), built with this
 * machine's engines: speech to text fetches WAV urls under the same rules as other url inputs (public
 * addresses unless `dvm.urlInputs.allow`, `dvm.inputTimeoutMs`) with a cap of ten minutes of audio; text to
 * speech keeps its WAV files in the media store and answers with their URL under the instance's public HTTP
 * URL. With them, agents serving kind 5000 with `text-extraction` get the speech-to-text handler too (it
 * extracts text as text-extraction does). Without the engines, what is missing and how to install it: the
 * voice agents are then not started.
 */
import { createSpeechToTextHandler, maxAudioBytes } from '../agents/runtime/handlers/speech-to-text.ts';
import { createTextToSpeechHandler } from '../agents/runtime/handlers/text-to-speech.ts';
import { UrlInputFetcher } from '../agents/runtime/url-input.ts';
import type { Config } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { JobHandler } from '../dvm/handler.ts';
import { sttFromConfig, ttsFromConfig } from '../voice/from-config.ts';
import type { Stt } from '../voice/stt.ts';
import type { Tts } from '../voice/tts.ts';
import { DEFAULT_MAX_SECONDS } from '../voice/wav.ts';
import { mediaUrl } from '../web/media-route.ts';
import type { MediaStore } from '../web/media-store.ts';

/** The voice handlers by name, or why there are none (one line, naming what to install). */
export type VoiceServing = { handlers: ReadonlyMap<string, JobHandler> } | { unavailable: string };

export interface VoiceOptions {
  config: Pick<Config, 'dvm' | 'voice'>;
  logger: Logger;
  media: MediaStore;
  /** The instance's HTTP URL as clients reach it (`http.publicUrl`, else where the server listens). */
  baseUrl: () => string;
  /** The engines; default those the `voice` section picks (voice/from-config.ts: pocketsphinx and flite unless set). */
  stt?: Stt;
  tts?: Tts;
}

export async function composeVoice(o: VoiceOptions): Promise<VoiceServing> {
  let stt: Stt;
  let tts: Tts;
  try {
    stt = o.stt ?? (await sttFromConfig(o.config.voice, { maxSeconds: DEFAULT_MAX_SECONDS }));
    tts = o.tts ?? (await ttsFromConfig(o.config.voice));
  } catch (err) {
    return { unavailable: errorMessage(err) };
  }
  const fetcher = new UrlInputFetcher({
    allow: o.config.dvm.urlInputs.allow,
    timeoutMs: o.config.dvm.inputTimeoutMs,
    maxInputBytes: maxAudioBytes(DEFAULT_MAX_SECONDS),
    logger: o.logger,
  });
  const speechToText = createSpeechToTextHandler({ stt, fetcher, maxTextBytes: o.config.dvm.maxInputBytes });
  const textToSpeech = createTextToSpeechHandler({
    tts,
    publisher: { publish: async (wav) => mediaUrl(o.baseUrl(), await o.media.put(wav)) },
  });
  return {
    handlers: new Map<string, JobHandler>([
      [speechToText.name, speechToText],
      [textToSpeech.name, textToSpeech],
      // Every kind 5000 agent transcribes audio too (the speech-to-text handler extracts text as text-extraction
      // does): whichever agent a job goes to (auction off: the least loaded), a WAV url is not refused.
      ['text-extraction', speechToText],
    ]),
  };
}
