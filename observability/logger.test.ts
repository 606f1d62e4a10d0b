import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from './logger.ts';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

test('logs are JSON lines with level, time, message and fields', () => {
  const c = capture();
  const log = createLogger({ destination: c.stream, level: 'debug' });
  log.info({ port: 7777 }, 'relay listening');
  log.child({ agent: 'forge' }).debug('hello');
  const [a, b] = c.lines();
  assert.equal(a?.level, 'info');
  assert.equal(a?.msg, 'relay listening');
  assert.equal(a?.port, 7777);
  assert.equal(typeof a?.time, 'string');
  assert.equal(b?.agent, 'forge');
  assert.equal(b?.level, 'debug');
});

test('secrets are redacted at any of the first levels', () => {
  const c = capture();
  const log = createLogger({ destination: c.stream });
  log.info({ passphrase: 'hunter2', config: { identity: { passphrase: 'hunter3' } }, nsec: 'nsec1xyz' }, 'x');
  const text = JSON.stringify(c.lines());
  assert.ok(!text.includes('hunter2'));
  assert.ok(!text.includes('hunter3'));
  assert.ok(!text.includes('nsec1xyz'));
  assert.ok(text.includes('[redacted]'));
});

test('level filters lower records', () => {
  const c = capture();
  const log = createLogger({ destination: c.stream, level: 'warn' });
  log.info('no');
  log.warn('yes');
  assert.deepEqual(
    c.lines().map((l) => l.msg),
    ['yes'],
  );
});
