import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, eventName } from './logger.ts';

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

test('every line names its module: the root, a component, or the field a component binds', () => {
  const c = capture();
  const log = createLogger({ destination: c.stream, level: 'debug', module: 'cli' });
  log.info('root');
  const store = log.child({ component: 'sqlite-store' });
  store.info('store');
  store.child({ job: 'j1' }).info('nested');
  log.child({ agent: 'forge' }).child({ module: 'bidder' }).info('bid');
  log.child({ conn: 3, ip: '::1' }).info('conn');
  log.child({ agent: 'coordinator' }).info('desk');
  const lines = c.lines();
  assert.deepEqual(
    lines.map((l) => l.module),
    ['cli', 'sqlite-store', 'sqlite-store', 'bidder', 'relay', 'desk'],
  );
  assert.equal(lines[2]?.job, 'j1');
  assert.equal(lines[3]?.agent, 'forge');
  assert.ok(lines.every((l) => !('component' in l)));
  // One `module` key per line, never repeated by a child of a child.
  const raw = JSON.stringify(lines);
  assert.equal(raw.split('"module"').length - 1, lines.length);
});

test('known secret values, nsec keys and NWC secrets are scrubbed from messages and any field', () => {
  const c = capture();
  const nwc = `nostr+walletconnect://${'a'.repeat(64)}?relay=ws%3A%2F%2F127.0.0.1%3A1&secret=${'b'.repeat(64)}`;
  const log = createLogger({ destination: c.stream, secrets: ['correct horse battery'] });
  log.info(
    { url: nwc, note: 'pass is correct horse battery' },
    'connecting to nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5',
  );
  log.child({ wallet: nwc }).warn('x');
  const text = c
    .lines()
    .map((l) => JSON.stringify(l))
    .join('\n');
  assert.ok(!text.includes('correct horse battery'));
  assert.ok(!text.includes('b'.repeat(64)));
  assert.ok(!text.includes('nsec1vl029'));
  assert.ok(text.includes(`secret=[redacted]`));
  assert.ok(text.includes('a'.repeat(64)), 'the wallet pubkey is no secret');
});

test('every line has an event: the one given, else its message as an identifier', () => {
  const c = capture();
  const log = createLogger({ destination: c.stream, level: 'debug' });
  log.info({ port: 7777 }, 'Relay listening, on 127.0.0.1!');
  log.warn('job refused');
  log.child({ agent: 'forge' }).info({ event: 'job_done', job: 'x' }, 'job done, result published');
  log.info({ trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16) }, 'inside a span');
  const [a, b, d, e] = c.lines();
  assert.equal(a?.event, 'relay_listening_on');
  assert.equal(b?.event, 'job_refused');
  assert.equal(d?.event, 'job_done');
  assert.equal(d?.module, 'agent');
  assert.equal(e?.trace_id, 'a'.repeat(32));
  assert.equal(eventName('…'), 'log');
  assert.ok(eventName('x'.repeat(200)).length <= 64);
});
