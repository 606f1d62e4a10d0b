import type { Writable } from 'node:stream';
import type { LineInterrupt } from '../observability/pretty.ts';

/**
 * A progress line for long start-up work ("deriving keys 3/14…") on stderr: one line redrawn in place on a
 * terminal, plain lines when stderr is not one, nothing at all when logs are JSON (every stderr line is
 * then a log record). Log lines written meanwhile clear it first and draw it again after (`LineInterrupt`).
 */
export type ProgressMode = 'tty' | 'lines' | 'off';

export class ProgressLine implements LineInterrupt {
  readonly #out: Writable;
  readonly #mode: ProgressMode;
  #text = '';

  constructor(out: Writable, mode: ProgressMode) {
    this.#out = out;
    this.#mode = mode;
  }

  /** Shows `text` as the current step. */
  update(text: string): void {
    if (this.#mode === 'off' || text === this.#text) return;
    this.#text = text;
    if (this.#mode === 'tty') this.#out.write(`\r\u001b[2K${text}`);
    else this.#out.write(`${text}\n`);
  }

  /** The work is over: the line goes away (on a terminal). */
  done(): void {
    if (this.#mode === 'tty' && this.#text !== '') this.#out.write('\r\u001b[2K');
    this.#text = '';
  }

  clear(): void {
    if (this.#mode === 'tty' && this.#text !== '') this.#out.write('\r\u001b[2K');
  }

  redraw(): void {
    if (this.#mode === 'tty' && this.#text !== '') this.#out.write(this.#text);
  }
}
