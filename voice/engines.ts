/** Which voice engines this machine has, what each lacks and how to install it (`timmy voice engines`). */
import { FLITE_INSTALL } from './flite-tts.ts';
import { POCKETSPHINX_INSTALL, pocketsphinxMissing } from './pocketsphinx-stt.ts';
import { findExecutable } from './subprocess.ts';

export interface EngineStatus {
  name: string;
  /** stt, tts, or a tool an engine uses. */
  role: 'stt' | 'tts' | 'tool';
  installed: boolean;
  /** The commands or files not found ([] when installed). */
  missing: string[];
  install: string;
  note: string;
}

export function voiceEngines(): EngineStatus[] {
  const sphinx = pocketsphinxMissing();
  const flite = findExecutable('flite') ? [] : ['flite'];
  const sox = findExecutable('sox') ? [] : ['sox'];
  return [
    {
      name: 'pocketsphinx',
      role: 'stt',
      installed: sphinx.length === 0,
      missing: sphinx,
      install: POCKETSPHINX_INSTALL,
      note: 'offline dictation, en-us (Debian pocketsphinx 0.8 with the full en-us model)',
    },
    {
      name: 'flite',
      role: 'tts',
      installed: flite.length === 0,
      missing: flite,
      install: FLITE_INSTALL,
      note: 'offline speech, voices slt (default), rms, awb, kal16; 16 kHz mono',
    },
    {
      name: 'sox',
      role: 'tool',
      installed: sox.length === 0,
      missing: sox,
      install: 'apt-get install sox',
      note: 'converts audio to 16 kHz mono 16-bit WAV (flite voice kal; your own files)',
    },
  ];
}
