import { describe } from 'node:test';
import { FakeStt } from '../../voice/fake-stt.ts';
import { FliteTts } from '../../voice/flite-tts.ts';
import { POCKETSPHINX_INSTALL, PocketsphinxStt, pocketsphinxMissing } from '../../voice/pocketsphinx-stt.ts';
import { findExecutable } from '../../voice/subprocess.ts';
import { encodeWav, tone } from '../../voice/wav.ts';
import { sttContract } from './stt.contract.ts';

const SAID = 'The weather will be sunny and warm this afternoon.';

sttContract('FakeStt', {
  makeStt: (opts) => new FakeStt(opts),
  speech: async (stt) => {
    // The fake hears what it is scripted to; slow enough that an abort lands in the middle.
    (stt as FakeStt).queue({ text: SAID.toLowerCase(), delayMs: 300 });
    return { wav: encodeWav(tone(2, { hz: 300 })), text: SAID };
  },
  maxWer: 0,
});

// .ci/run installs pocketsphinx, its en-us model and flite, so this runs in CI; only a machine without them
// skips it, saying why.
const missing = [...pocketsphinxMissing(), ...(findExecutable('flite') ? [] : ['flite'])];
if (missing.length === 0) {
  let spoken: Uint8Array | undefined;
  sttContract('PocketsphinxStt (Debian pocketsphinx, full en-us model), on speech from flite', {
    makeStt: (opts) => new PocketsphinxStt(opts),
    speech: async () => {
      spoken ??= await new FliteTts().synthesize(SAID);
      return { wav: spoken, text: SAID };
    },
    // Measured: word-perfect on this sentence; one word in three wrong would still pass.
    maxWer: 0.34,
    timeoutMs: 90_000,
  });
} else
  describe('Stt contract: PocketsphinxStt', {
    skip: `not installed: ${missing.join(', ')} (${POCKETSPHINX_INSTALL} flite)`,
  }, () => {});
