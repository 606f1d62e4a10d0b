/**
 * A download progress display for stderr: on a terminal one line redrawn in place, at most ten times a
 * second (`[#####.....] 42%  12.3/30.0 MB  5.1 MB/s`); otherwise (a log file, CI) a plain line at every
 * tenth of the download, or every few seconds when the size is unknown.
 */
import type { Writable } from 'node:stream';
import type { Clock } from '../core/clock.ts';
import type { FetchProgress } from './model-fetch.ts';

export interface DownloadProgressOptions {
  stream: Writable;
  /** Redraw one line in place (the stream is a terminal). */
  tty: boolean;
  clock: Clock;
  /** Minimum time between plain lines when the size is unknown (default 5000 ms). */
  plainIntervalMs?: number;
}

const MB = 1e6;
const BAR = 24;

/** "42%  12.3/30.0 MB  5.1 MB/s", or "12.3 MB  5.1 MB/s" when the total is unknown. */
export function describeProgress(p: FetchProgress): string {
  const speed =
    p.elapsedMs > 0 ? `${(p.receivedBytes / MB / (p.elapsedMs / 1000)).toFixed(1)} MB/s` : '-- MB/s';
  const got = (p.receivedBytes / MB).toFixed(1);
  if (!p.totalBytes) return `${got} MB  ${speed}`;
  return `${percent(p)}%  ${got}/${(p.totalBytes / MB).toFixed(1)} MB  ${speed}`;
}

function percent(p: FetchProgress): number {
  return p.totalBytes ? Math.min(100, Math.floor((p.receivedBytes / p.totalBytes) * 100)) : 0;
}

export class DownloadProgress {
  private lastDraw = Number.NEGATIVE_INFINITY;
  private lastTenth = -1;
  private last: FetchProgress | undefined;
  private drawn = false;

  constructor(private readonly options: DownloadProgressOptions) {}

  update(p: FetchProgress): void {
    this.last = p;
    const now = this.options.clock.now();
    if (this.options.tty) {
      if (now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.draw(p);
      return;
    }
    if (p.totalBytes) {
      const tenth = Math.floor(percent(p) / 10);
      if (tenth <= this.lastTenth) return;
      this.lastTenth = tenth;
    } else {
      if (now - this.lastDraw < (this.options.plainIntervalMs ?? 5000)) return;
      this.lastDraw = now;
    }
    this.options.stream.write(`download ${describeProgress(p)}\n`);
  }

  /** Draws the final state and ends the line (call once, success or not). */
  finish(): void {
    if (this.options.tty) {
      if (this.last) this.draw(this.last);
      if (this.drawn) this.options.stream.write('\n');
    } else if (this.last?.totalBytes && Math.floor(percent(this.last) / 10) > this.lastTenth) {
      this.options.stream.write(`download ${describeProgress(this.last)}\n`);
    }
  }

  private draw(p: FetchProgress): void {
    const filled = p.totalBytes ? Math.round((percent(p) / 100) * BAR) : 0;
    const bar = p.totalBytes ? `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ` : '';
    this.options.stream.write(`\r${bar}${describeProgress(p)}\x1b[K`);
    this.drawn = true;
  }
}
