import { describe } from 'node:test';
import { FakeTts } from '../../voice/fake-tts.ts';
import { FLITE_INSTALL, FliteTts } from '../../voice/flite-tts.ts';
import { findExecutable } from '../../voice/subprocess.ts';
import { ttsContract } from './tts.contract.ts';

ttsContract('FakeTts', { makeTts: (opts) => new FakeTts(opts) });

// .ci/run installs flite, so it runs in CI; only a machine without it skips the suite, saying why.
if (findExecutable('flite'))
  ttsContract('FliteTts (Debian flite, voice slt)', { makeTts: (o) => new FliteTts(o) });
else describe('Tts contract: FliteTts', { skip: `flite is not installed (${FLITE_INSTALL})` }, () => {});
