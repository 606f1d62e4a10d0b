/**
 * The voice engines the configuration's `voice` section picks (docs/CONFIGURATION.md): pocketsphinx or a
 * sherpa-onnx model for speech to text, flite or a sherpa-onnx model for text to speech, silero or no VAD.
 * Voice is optional: an engine that is not installed, or a sherpa model not fetched, rejects with a
 * `VoiceEngineMissingError` whose message says what to install or fetch; callers report it and carry on.
 */
import type { Config } from '../core/config.ts';
import { VoiceEngineMissingError } from './errors.ts';
import { FliteTts } from './flite-tts.ts';
import { PocketsphinxStt } from './pocketsphinx-stt.ts';
import { SherpaStt } from './sherpa-stt.ts';
import { SherpaTts } from './sherpa-tts.ts';
import { SileroVad } from './silero-vad.ts';
import type { Stt } from './stt.ts';
import type { Tts } from './tts.ts';
import type { Vad } from './vad.ts';

export type VoiceConfig = Config['voice'];

export interface SttChoice {
  /**
   * Phrases for a fast command mode (the intents' phrases). pocketsphinx then recognizes only these (a JSGF
   * grammar); a sherpa-onnx model transcribes freely and ignores them.
   */
  commands?: string[];
  maxSeconds?: number;
}

/** The configured speech-to-text engine, loaded. */
export async function sttFromConfig(voice: VoiceConfig, choice: SttChoice = {}): Promise<Stt> {
  if (voice.stt === 'sherpa') {
    if (voice.sttModelDir === '')
      throw new VoiceEngineMissingError(
        'sherpa-onnx STT',
        ['a model directory (voice.sttModelDir, TIMMY_VOICE_STT_MODEL_DIR)'],
        'timmy models fetch moonshine-tiny-en, then set the TIMMY_VOICE_STT_MODEL_DIR it prints',
      );
    return SherpaStt.open({
      modelDir: voice.sttModelDir,
      numThreads: voice.threads,
      maxSeconds: choice.maxSeconds,
    });
  }
  return new PocketsphinxStt({ commands: choice.commands, maxSeconds: choice.maxSeconds });
}

/** The configured text-to-speech engine, loaded. */
export async function ttsFromConfig(voice: VoiceConfig): Promise<Tts> {
  if (voice.tts === 'sherpa') {
    if (voice.ttsModelDir === '')
      throw new VoiceEngineMissingError(
        'sherpa-onnx TTS',
        ['a model directory (voice.ttsModelDir, TIMMY_VOICE_TTS_MODEL_DIR)'],
        'timmy models fetch kitten-nano-en-v0_2, then set the TIMMY_VOICE_TTS_MODEL_DIR it prints',
      );
    return SherpaTts.open({ modelDir: voice.ttsModelDir, speaker: voice.speaker, numThreads: voice.threads });
  }
  return new FliteTts({ voice: voice.voice });
}

/** The configured voice activity detector; undefined when `voice.vad` is `none`. */
export function vadFromConfig(voice: VoiceConfig): Vad | undefined {
  return voice.vad === 'silero' ? new SileroVad() : undefined;
}
