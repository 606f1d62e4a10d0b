/**
 * Small helpers shared by the built-in handlers: reading NIP-90 `param` values (always strings) and joining
 * the job's inputs. Every bad value becomes a JobInputError that names the param and shows how to pass it.
 */
import { type JobInput, JobInputError } from '../../../dvm/handler.ts';

interface Range {
  min: number;
  max: number;
}

/** Longer values are refused before any pattern runs on them. */
const MAX_NUMBER_LENGTH = 24;

function present(params: Record<string, string>, name: string): string | undefined {
  const raw = params[name];
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** The value as quoted back in an error message: long values are cut. */
export function shown(raw: string): string {
  return raw.length > 40 ? `${raw.slice(0, 40)}…` : raw;
}

/** An integer param within [min, max], or undefined when absent or empty. */
export function intParam(params: Record<string, string>, name: string, range: Range): number | undefined {
  const raw = present(params, name);
  if (raw === undefined) return undefined;
  const value = raw.length <= MAX_NUMBER_LENGTH && /^[+-]?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max)
    throw new JobInputError(
      `param "${name}" must be a whole number from ${range.min} to ${range.max}, got "${shown(raw)}" ` +
        `(e.g. ["param", "${name}", "${range.min}"])`,
    );
  return value;
}

/** A decimal param within [min, max], or undefined when absent or empty. */
export function numberParam(params: Record<string, string>, name: string, range: Range): number | undefined {
  const raw = present(params, name);
  if (raw === undefined) return undefined;
  const value =
    raw.length <= MAX_NUMBER_LENGTH && /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value) || value < range.min || value > range.max)
    throw new JobInputError(
      `param "${name}" must be a number from ${range.min} to ${range.max}, got "${shown(raw)}" ` +
        `(e.g. ["param", "${name}", "${range.max / 2}"])`,
    );
  return value;
}

/** A text param, trimmed; undefined when absent or blank. */
export function textParam(params: Record<string, string>, name: string): string | undefined {
  return present(params, name);
}

/**
 * The non-blank inputs' text joined with `separator`. Throws `emptyMessage` as a JobInputError when there
 * is no input or all of them are blank.
 */
export function inputText(job: JobInput, separator: string, emptyMessage: string): string {
  const texts = job.inputs.map((i) => i.text).filter((t) => t.trim() !== '');
  if (texts.length === 0) throw new JobInputError(emptyMessage);
  return texts.join(separator);
}
