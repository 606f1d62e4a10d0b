/** The checks every `Vad` makes of what it is given (the fake too, so tests see the same refusals). */
import { VoiceInputError } from './errors.ts';
import { type PcmAudio, VOICE_SAMPLE_RATE } from './wav.ts';

/** The samples a `VadStream.push` takes: an `Int16Array` of 16 kHz mono audio, else a `VoiceInputError`. */
export function vadSamples(samples: unknown): Int16Array {
  if (!(samples instanceof Int16Array)) {
    const got =
      samples === null ? 'null' : typeof samples === 'object' ? samples.constructor.name : typeof samples;
    throw new VoiceInputError(`a VAD takes 16-bit samples (an Int16Array), got ${got}`);
  }
  return samples;
}

/** The samples of a whole recording for `Vad.segments`: 16 kHz, else a `VoiceInputError` naming the rate. */
export function vadAudio(audio: PcmAudio): Int16Array {
  if (audio.sampleRate !== VOICE_SAMPLE_RATE)
    throw new VoiceInputError(
      `the audio is ${audio.sampleRate} Hz; a VAD takes ${VOICE_SAMPLE_RATE} Hz (parseWav with sampleRate ${VOICE_SAMPLE_RATE} converts multiples)`,
    );
  return vadSamples(audio.samples);
}

/** What a stream says when pushed to after `flush` ended it. */
export function flushedStream(): VoiceInputError {
  return new VoiceInputError('this VAD stream was flushed (its audio ended); open a new stream()');
}
