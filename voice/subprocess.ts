/** The voice engines' subprocesses: spawned with arguments (never a shell), bounded by a timeout and a signal. */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { abortError, VoiceEngineError } from './errors.ts';

/** The executable's path: `name` itself when it has a slash, else the first match on PATH; undefined if none. */
export function findExecutable(name: string, path = process.env.PATH ?? ''): string | undefined {
  const candidates = name.includes('/')
    ? [name]
    : path
        .split(delimiter)
        .filter(isAbsolute)
        .map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function fileExists(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

export interface RunOptions {
  engine: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** stdout beyond this is an error (default 4 MiB). */
  maxStdoutBytes?: number;
}

/** Runs `file args…` to its end; resolves with stdout, rejects with a `VoiceEngineError` or an `AbortError`. */
export function runEngine(file: string, args: string[], opts: RunOptions): Promise<string> {
  const max = opts.maxStdoutBytes ?? 4 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(abortError(opts.signal));
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], shell: false });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let failure: Error | undefined;
    const stop = (e: Error) => {
      failure ??= e;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => stop(new VoiceEngineError(opts.engine, `no answer within ${opts.timeoutMs} ms; stopped`)),
      opts.timeoutMs,
    );
    const onAbort = () => stop(abortError(opts.signal!));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (d: Buffer) => {
      outBytes += d.length;
      if (outBytes > max) stop(new VoiceEngineError(opts.engine, `printed more than ${max} bytes; stopped`));
      else out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      err = (err + String(d)).slice(-2000);
    });
    child.on('error', (e) => stop(new VoiceEngineError(opts.engine, `could not run ${file}: ${e.message}`)));
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (failure) return reject(failure);
      if (code !== 0) {
        const tail = err.trim().split('\n').slice(-3).join(' | ');
        return reject(
          new VoiceEngineError(opts.engine, `${file} exited with ${code ?? sig}${tail ? `: ${tail}` : ''}`),
        );
      }
      resolve(Buffer.concat(out).toString('utf8'));
    });
  });
}
