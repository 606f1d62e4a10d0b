/**
 * Known-good sherpa-onnx model archives (`timmy models fetch <name>`): where each is published, its size, its
 * SHA-256, its licence and what kind of model it is. Timmy ships no speech model (no npm or Debian package
 * carries one); a user with internet fetches one of these, and `voice.stt`/`voice.tts` = `sherpa` with the
 * directory it lands in uses it.
 *
 * The checksums were not measured here (this machine cannot reach GitHub): each was read from public
 * projects that pin the same archive, named in `sha256Source`. sherpa-onnx publishes its models under rolling
 * release tags (`asr-models`, `tts-models`), so an archive could be replaced under the same name: the checksum
 * is the pin, and a mismatch is refused, never accepted. Where no public source lists a checksum the entry has
 * none (`sha256` undefined) and the fetch then requires `--sha256` from the user.
 */

export type CatalogRole = 'stt' | 'tts';
export type CatalogType = 'moonshine' | 'whisper' | 'transducer' | 'vits' | 'kokoro' | 'kitten';

export interface CatalogModel {
  /** What the user types: `timmy models fetch <name>`. */
  name: string;
  role: CatalogRole;
  type: CatalogType;
  url: string;
  /** The archive's size in bytes where a source gives it exactly, else undefined. */
  bytes?: number;
  /** The size as people read it. */
  size: string;
  /** 64 hex digits, or undefined: no public source lists one (the fetch then needs --sha256). */
  sha256?: string;
  /** Where the checksum was read. */
  sha256Source?: string;
  licence: string;
  language: string;
  note: string;
}

const ASR = 'https://github.com/k2-fsa/sherpa-onnx/releases/download/asr-models';
const TTS = 'https://github.com/k2-fsa/sherpa-onnx/releases/download/tts-models';

export const MODEL_CATALOG: readonly CatalogModel[] = [
  {
    name: 'moonshine-tiny-en',
    role: 'stt',
    type: 'moonshine',
    url: `${ASR}/sherpa-onnx-moonshine-tiny-en-int8.tar.bz2`,
    size: '107.6 MB',
    sha256: 'd5fe6ec4334fef36255b2a4010412cad4c007e33103fec62fb5d17cad88086f2',
    sha256Source: 'two independent public projects pinning this archive (the same value in both)',
    licence: 'MIT (Useful Sensors; the LICENSE file is in the archive)',
    language: 'English',
    note: 'Moonshine tiny, int8: cost grows with the audio (no 30 s window), the best fit for short commands',
  },
  {
    name: 'whisper-tiny-en',
    role: 'stt',
    type: 'whisper',
    url: `${ASR}/sherpa-onnx-whisper-tiny.en.tar.bz2`,
    size: '~113-118 MB',
    sha256: '2bd6cf965c8bb3e068ef9fa2191387ee63a9dfa2a4e37582a8109641c20005dd',
    sha256Source: 'one public project pinning this archive',
    licence: 'MIT (OpenAI Whisper)',
    language: 'English',
    note: 'Whisper tiny.en (fp32 and int8 files; the int8 ones are used); its encoder always runs a 30 s window',
  },
  {
    name: 'parakeet-tdt-0.6b-v2',
    role: 'stt',
    type: 'transducer',
    url: `${ASR}/sherpa-onnx-nemo-parakeet-tdt-0.6b-v2-int8.tar.bz2`,
    size: '~480 MB',
    licence: 'CC-BY-4.0 (NVIDIA NeMo Parakeet)',
    language: 'English',
    note: 'NeMo Parakeet TDT 0.6B v2, int8 transducer: the most accurate here, and the heaviest',
  },
  {
    name: 'kokoro-en-v0_19',
    role: 'tts',
    type: 'kokoro',
    url: `${TTS}/kokoro-int8-en-v0_19.tar.bz2`,
    bytes: 103_248_205,
    size: '103.2 MB',
    sha256: 'c9f0dd393615805b0bab050c340834d5e684e732aec91c0e860cd30e982c08bd',
    sha256Source: 'one public project that measured the published archive',
    licence: 'Apache-2.0 (hexgrad Kokoro-82M)',
    language: 'English (11 speakers)',
    note: 'Kokoro 82M, int8, 24 kHz: natural, about real time on a small CPU',
  },
  {
    name: 'kitten-nano-en-v0_2',
    role: 'tts',
    type: 'kitten',
    url: `${TTS}/kitten-nano-en-v0_2-fp16.tar.bz2`,
    bytes: 26_586_708,
    size: '26.6 MB',
    sha256: '0345a8a2f4a710cb8f7912c9a731ded8b3e1e69b33a871efa95c2e64651518fe',
    sha256Source: 'two independent public projects pinning this archive (the same value in both)',
    licence: 'Apache-2.0 (KittenML KittenTTS)',
    language: 'English (8 speakers)',
    note: 'Kitten nano, fp16, 24 kHz: small and fast',
  },
  {
    name: 'piper-en_US-amy-low',
    role: 'tts',
    type: 'vits',
    url: `${TTS}/vits-piper-en_US-amy-low.tar.bz2`,
    size: '~63 MB',
    licence: "see the MODEL_CARD in the archive (Piper voices each carry their dataset's licence)",
    language: 'English (US)',
    note: 'a Piper voice (VITS), 16 kHz, fast',
  },
];

/** The catalog entry of that name, or undefined. */
export function catalogModel(name: string): CatalogModel | undefined {
  return MODEL_CATALOG.find((m) => m.name === name);
}

/** The names, for messages. */
export function catalogNames(): string[] {
  return MODEL_CATALOG.map((m) => m.name);
}
