/**
 * The `info` event's body: the speech services this server offers, described as the Wyoming documentation and
 * its reference library lay them out (every artifact with `name`, `attribution`, `installed`, `description`,
 * `version`; ASR programs with `models`, TTS programs with `voices`).
 */
import { runEngine } from '../subprocess.ts';

export interface Attribution {
  name: string;
  url: string;
}

/** What a client is told about one engine. */
export interface EngineDescription {
  /** The model's or voice's name: the engine's own (`Stt.name`, `Tts.name`). */
  name: string;
  /** The program it runs in (`pocketsphinx`, `flite`, …). */
  program: string;
  description: string;
  attribution: Attribution;
  /** Language codes it speaks, e.g. `en`, `en-US`. */
  languages: string[];
  version: string | null;
}

interface KnownEngine {
  description: string;
  attribution: Attribution;
  languages: string[];
  /** The Debian package whose version is the engine's. */
  debianPackage?: string;
}

const KNOWN: Record<string, KnownEngine> = {
  pocketsphinx: {
    description: 'CMU PocketSphinx dictation, full en-us model (offline)',
    attribution: { name: 'Carnegie Mellon University (CMU Sphinx)', url: 'https://cmusphinx.github.io' },
    languages: ['en', 'en-US'],
    debianPackage: 'pocketsphinx',
  },
  flite: {
    description: 'CMU Flite speech synthesis (offline)',
    attribution: { name: 'Carnegie Mellon University (CMU Flite)', url: 'http://cmuflite.org' },
    languages: ['en', 'en-US'],
    debianPackage: 'flite',
  },
};

const SHERPA: KnownEngine = {
  description: 'sherpa-onnx with a model fetched by the user (offline)',
  attribution: { name: 'k2-fsa (Next-gen Kaldi)', url: 'https://github.com/k2-fsa/sherpa-onnx' },
  languages: ['en'],
};

const GENERIC: KnownEngine = {
  description: 'a Timmy voice engine',
  attribution: { name: 'Timmy Time', url: '' },
  languages: ['en'],
};

/** The program an engine name belongs to: the part before the first `:` (`flite:slt` → `flite`). */
export function programOf(engineName: string): string {
  const i = engineName.indexOf(':');
  return i > 0 ? engineName.slice(0, i) : engineName;
}

/** The installed version of a Debian package, or null (not Debian, not installed, no answer in 5 s). */
export async function debianVersion(pkg: string): Promise<string | null> {
  try {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not a template
    const out = await runEngine('dpkg-query', ['-W', '-f=${Version}', pkg], {
      engine: 'dpkg-query',
      timeoutMs: 5_000,
    });
    return out.trim() || null;
  } catch {
    return null;
  }
}

/** Describes an engine by its name: the known ones with their makers, languages and Debian version. */
export async function describeEngine(
  engineName: string,
  opts: { languages?: string[]; version?: (pkg: string) => Promise<string | null> } = {},
): Promise<EngineDescription> {
  const program = programOf(engineName);
  const known = KNOWN[program] ?? (program.startsWith('sherpa') ? SHERPA : GENERIC);
  const version = known.debianPackage ? await (opts.version ?? debianVersion)(known.debianPackage) : null;
  return {
    name: engineName,
    program,
    description: known.description,
    attribution: known.attribution,
    languages: opts.languages ?? known.languages,
    version,
  };
}

function artifact(d: EngineDescription, name: string): Record<string, unknown> {
  return {
    name,
    attribution: d.attribution,
    installed: true,
    description: d.description,
    version: d.version,
  };
}

/** The `info` event's data for the engines served (either may be absent). */
export function infoData(engines: {
  asr?: EngineDescription;
  tts?: EngineDescription;
}): Record<string, unknown> {
  const { asr, tts } = engines;
  return {
    asr: asr
      ? [
          {
            ...artifact(asr, asr.program),
            models: [{ ...artifact(asr, asr.name), languages: asr.languages }],
            supports_transcript_streaming: false,
          },
        ]
      : [],
    tts: tts
      ? [
          {
            ...artifact(tts, tts.program),
            voices: [{ ...artifact(tts, tts.name), languages: tts.languages, speakers: null }],
            supports_synthesize_streaming: false,
          },
        ]
      : [],
    handle: [],
    intent: [],
    wake: [],
  };
}
