/**
 * Finding the files of a sherpa-onnx model in a directory the user fetched (`timmy models fetch`): which kind
 * of model it is, from the file names the sherpa-onnx archives use, and which file plays which part. int8
 * files are preferred where an archive ships both. Nothing here loads a model.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { VoiceEngineError, VoiceEngineMissingError } from './errors.ts';

/** What to run when a model is missing: the catalog (voice/model-catalog.ts) names the archives. */
export const FETCH_HINT = 'timmy models fetch <name> (the catalog of model archives is in docs/voice.md)';

export interface ModelFiles {
  kind: string;
  dir: string;
  /** Part name → file path. */
  files: Record<string, string>;
}

/** A part of a model: its name in sherpa-onnx's config and the file names that fill it. */
export interface Part {
  name: string;
  match: RegExp;
  /** Shown when it is missing. */
  want: string;
}

export interface Layout {
  kind: string;
  parts: Part[];
  /** Chooses between layouts that could both fit (the most specific first). */
  distinct?: RegExp;
}

/** The directory holding the files: `dir`, or its only subdirectory when it holds no files (an archive's top folder). */
export function modelDir(engine: string, dir: string): { dir: string; names: string[] } {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new VoiceEngineError(engine, `${dir} is not a directory`);
    names = readdirSync(dir);
  } catch (err) {
    if (err instanceof VoiceEngineError) throw err;
    throw new VoiceEngineMissingError(engine, [dir], FETCH_HINT);
  }
  const files = names.filter((n) => statSync(join(dir, n)).isFile());
  const dirs = names.filter((n) => statSync(join(dir, n)).isDirectory());
  if (files.length === 0 && dirs.length === 1) return modelDir(engine, join(dir, dirs[0]!));
  return { dir, names: files };
}

/** The file for a part: the int8 one where both exist, else the shortest name. */
function pick(names: string[], match: RegExp): string | undefined {
  const hits = names.filter((n) => match.test(n)).sort((a, b) => a.length - b.length);
  return hits.find((n) => n.includes('.int8.')) ?? hits[0];
}

/**
 * The layout the directory fits, with its files. A directory that fits none, or fits one only in part, is
 * refused: a `VoiceEngineMissingError` naming the files a layout lacks (when its distinctive file is there),
 * else a `VoiceEngineError` listing what was found and what each layout needs.
 */
export function matchLayout(engine: string, dir: string, layouts: Layout[]): ModelFiles {
  const found = modelDir(engine, dir);
  const names = found.names;
  let partial: { layout: Layout; missing: string[] } | undefined;
  for (const layout of layouts) {
    const files: Record<string, string> = {};
    const missing: string[] = [];
    for (const part of layout.parts) {
      const f = pick(names, part.match);
      if (f) files[part.name] = join(found.dir, f);
      else missing.push(part.want);
    }
    if (missing.length === 0) return { kind: layout.kind, dir: found.dir, files };
    const distinctive = layout.distinct ? names.some((n) => layout.distinct!.test(n)) : false;
    if (distinctive && !partial) partial = { layout, missing };
  }
  if (partial)
    throw new VoiceEngineMissingError(
      `sherpa-onnx ${partial.layout.kind} model in ${found.dir}`,
      partial.missing,
      `fetch the whole archive again: ${FETCH_HINT}`,
    );
  const have = names.length > 0 ? names.join(', ') : 'no files';
  const need = layouts.map((l) => `${l.kind} (${l.parts.map((p) => p.want).join(', ')})`).join('; ');
  throw new VoiceEngineError(
    engine,
    `${found.dir} holds no model ${engine} can use (found: ${have}); it needs one of: ${need}. Fetch one with: ${FETCH_HINT}`,
  );
}

/** The name of the model: its directory's. */
export function modelName(files: ModelFiles): string {
  return basename(files.dir);
}
