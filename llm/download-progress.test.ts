import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { ManualClock } from '../core/clock.ts';
import { DownloadProgress, describeProgress } from './download-progress.ts';

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d) => {
    text += String(d);
  });
  return { stream, text: () => text };
}

test('describeProgress shows percent, MB and speed', () => {
  assert.equal(
    describeProgress({ receivedBytes: 12_300_000, totalBytes: 30_000_000, elapsedMs: 2000 }),
    '41%  12.3/30.0 MB  6.2 MB/s',
  );
  assert.equal(
    describeProgress({ receivedBytes: 5_000_000, totalBytes: undefined, elapsedMs: 0 }),
    '5.0 MB  -- MB/s',
  );
});

test('plain output: one line per tenth, nothing redrawn', () => {
  const out = capture();
  const clock = new ManualClock();
  const p = new DownloadProgress({ stream: out.stream, tty: false, clock });
  for (let b = 0; b <= 1000; b += 25) {
    clock.advance(10);
    p.update({ receivedBytes: b, totalBytes: 1000, elapsedMs: b });
  }
  p.finish();
  const lines = out.text().trim().split('\n');
  assert.equal(lines.length, 11);
  assert.match(lines.at(-1) ?? '', /^download 100%/);
  assert.ok(!out.text().includes('\r'));
});

test('plain output with an unknown size: a line every interval', () => {
  const out = capture();
  const clock = new ManualClock();
  const p = new DownloadProgress({ stream: out.stream, tty: false, clock, plainIntervalMs: 1000 });
  for (let i = 1; i <= 30; i++) {
    clock.advance(100);
    p.update({ receivedBytes: i * 1e6, totalBytes: undefined, elapsedMs: i * 100 });
  }
  p.finish();
  assert.equal(out.text().trim().split('\n').length, 3);
});

test('terminal output: a bar redrawn in place, throttled, ended with a newline', () => {
  const out = capture();
  const clock = new ManualClock();
  const p = new DownloadProgress({ stream: out.stream, tty: true, clock });
  for (let i = 1; i <= 10; i++) {
    clock.advance(50);
    p.update({ receivedBytes: i * 100, totalBytes: 1000, elapsedMs: i * 50 });
  }
  p.finish();
  const text = out.text();
  assert.equal(text.split('\r').length - 1, 6, '5 throttled draws and the final one');
  assert.match(text, /\r\[#{24}\] 100% {2}0\.0\/0\.0 MB/);
  assert.ok(text.endsWith('\n'));
});
