/**
 * pocketsphinx's command mode (a JSGF grammar of the caller's phrases): the grammar and dictionary built from
 * phrases, then flite speaking every phrase and the command-mode engine hearing it back, and the Stt contract.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VoiceInputError } from '../../voice/errors.ts';
import { FliteTts } from '../../voice/flite-tts.ts';
import { buildCommandGrammar, phraseWords } from '../../voice/pocketsphinx-command.ts';
import { POCKETSPHINX_INSTALL, PocketsphinxStt, pocketsphinxMissing } from '../../voice/pocketsphinx-stt.ts';
import { findExecutable } from '../../voice/subprocess.ts';
import { sttContract } from '../contracts/stt.contract.ts';

/** Phrases of the kind the voice intents give (status, jobs, approval, balance, asking Timmy). */
export const COMMANDS = [
  'what is the status',
  'what is my balance',
  'approve the job',
  'cancel the job',
  'submit a summary job',
  'submit a translation job',
  'show my agents',
  'how many jobs are running',
  'read the last result',
  'ask timmy what time it is',
  'stop listening',
  'the weather will be sunny and warm this afternoon',
];

describe('command grammar', () => {
  const dict = new Map([
    ['approve', ['approve AH P R UW V']],
    ['the', ['the DH AH', 'the(2) DH IY']],
    ['job', ['job JH AA B']],
    ["what's", ["what's W AH T S"]],
  ]);

  it('normalizes phrases to lower-case words, keeps apostrophes, drops punctuation and duplicates', () => {
    assert.deepEqual(phraseWords('  Approve THE job!  What’s  up? 42 '), [
      'approve',
      'the',
      'job',
      "what's",
      'up',
    ]);
    const g = buildCommandGrammar(['Approve the job.', 'approve the   job', "what's the job"], dict);
    assert.deepEqual(g.phrases, ['approve the job', "what's the job"]);
    assert.equal(
      g.jsgf,
      "#JSGF V1.0;\ngrammar commands;\npublic <command> = ( approve the job | what's the job );\n",
    );
    assert.deepEqual(g.dict.trim().split('\n').sort(), [
      'approve AH P R UW V',
      'job JH AA B',
      'the DH AH',
      'the(2) DH IY',
      "what's W AH T S",
    ]);
  });

  it('skips a phrase with an unknown word, naming it; refuses when nothing is left', () => {
    const g = buildCommandGrammar(['approve the job', 'frobnicate the job'], dict);
    assert.deepEqual(g.skipped, [{ phrase: 'frobnicate the job', unknown: ['frobnicate'] }]);
    assert.throws(
      () => buildCommandGrammar(['frobnicate the zorp'], dict),
      (e: unknown) => e instanceof VoiceInputError && /dictionary lacks \(frobnicate, zorp\)/.test(e.message),
    );
    assert.throws(() => buildCommandGrammar([], dict), /at least one phrase/);
    assert.throws(() => buildCommandGrammar(['?!'], dict), VoiceInputError);
  });
});

// .ci/run installs pocketsphinx, its model and flite; only a machine without them skips, saying why.
const missing = [...pocketsphinxMissing(), ...(findExecutable('flite') ? [] : ['flite'])];
if (missing.length === 0) {
  describe('command mode on flite speech', () => {
    it('hears every phrase of the grammar spoken by flite (slt)', { timeout: 180_000 }, async () => {
      const stt = new PocketsphinxStt({ commands: COMMANDS });
      assert.equal(stt.name, 'pocketsphinx:en-us:command');
      assert.deepEqual(stt.grammar?.skipped, []);
      const tts = new FliteTts();
      const wrong: string[] = [];
      for (const phrase of COMMANDS) {
        const heard = (await stt.transcribe(await tts.synthesize(phrase))).text;
        if (heard !== phrase) wrong.push(`said "${phrase}", heard "${heard}"`);
      }
      // Measured: 12 of 12 exact. One miss is allowed for a loaded machine's sake, not two.
      assert.ok(wrong.length <= 1, wrong.join('; '));
    });
  });
  let spoken: Uint8Array | undefined;
  const SAID = 'The weather will be sunny and warm this afternoon.';
  sttContract('PocketsphinxStt in command mode (grammar of 12 phrases)', {
    makeStt: (opts) => new PocketsphinxStt({ ...opts, commands: COMMANDS }),
    speech: async () => {
      spoken ??= await new FliteTts().synthesize(SAID);
      return { wav: spoken, text: SAID };
    },
    maxWer: 0,
    timeoutMs: 90_000,
  });
} else
  describe('pocketsphinx command mode', {
    skip: `not installed: ${missing.join(', ')} (${POCKETSPHINX_INSTALL} flite)`,
  }, () => {});
