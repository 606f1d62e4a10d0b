import type { Writable } from 'node:stream';

/** Where a command writes and what it reads from its environment, so tests can run commands in-process. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: Record<string, string | undefined>;
  cwd: string;
  /**
   * Resolves when the user asks a long-running command to stop (SIGINT/SIGTERM). The handlers are installed
   * on the first call, so until then (and in short commands) Ctrl+C ends the process as usual.
   */
  waitForStop(): Promise<string>;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    waitForStop: () =>
      new Promise<string>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      }),
  };
}

export function println(stream: Writable, text = ''): void {
  stream.write(`${text}\n`);
}

/** `--json` output: exactly one JSON document on stdout. */
export function printJson(stream: Writable, value: unknown): void {
  stream.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Thrown by commands for a clean, explained failure (no stack trace): message to stderr, exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
