import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatLine, formatRecord, prettyDestination, wantsColours } from './pretty.ts';

const at = new Date(2026, 0, 2, 3, 4, 5).toISOString();

test('a record reads as time, level, module, message and key=value fields', () => {
  const line = formatRecord(
    {
      level: 'warn',
      time: at,
      pid: 1,
      hostname: 'h',
      module: 'relay',
      msg: 'slow reader closed',
      conn: 7,
      ip: '127.0.0.1',
      reason: 'two words',
      kinds: [1, 2],
    },
    { colours: false },
  );
  assert.equal(
    line,
    '03:04:05 WARN  relay: slow reader closed conn=7 ip=127.0.0.1 reason="two words" kinds=[1,2]',
  );
});

test('pino numeric levels, a missing module and a missing time still read', () => {
  assert.equal(formatRecord({ level: 50, msg: 'boom' }, { colours: false }), '--:--:-- ERROR boom');
  assert.equal(formatRecord({ level: 30, time: at, msg: 'x' }, { colours: false }), '03:04:05 INFO  x');
});

test('colours only when asked: a terminal without NO_COLOR', () => {
  const record = { level: 'info', time: at, module: 'desk', msg: 'hi', job: 'abc' };
  assert.ok(!formatRecord(record, { colours: false }).includes('\u001b['));
  assert.ok(formatRecord(record, { colours: true }).includes('\u001b[32mINFO'));
  assert.equal(wantsColours({ isTTY: true }, {}), true);
  assert.equal(wantsColours({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(wantsColours({ isTTY: false }, {}), false);
  assert.equal(wantsColours({}, {}), false);
  assert.equal(wantsColours({ isTTY: true }, { NO_COLOR: '' }), true, 'an empty NO_COLOR is unset');
});

test('a line that is not a JSON object passes through', () => {
  assert.equal(formatLine('plain text\n', { colours: false }), 'plain text');
  assert.equal(formatLine('[1,2]', { colours: false }), '[1,2]');
});

test('the destination renders each line and clears the progress line around it', () => {
  const out: string[] = [];
  const calls: string[] = [];
  const dest = prettyDestination(
    { write: (s: string) => out.push(s) },
    {
      colours: false,
      interrupt: { clear: () => calls.push('clear'), redraw: () => calls.push('redraw') },
    },
  );
  dest.write(`${JSON.stringify({ level: 'info', time: at, module: 'm', msg: 'one' })}\n`);
  assert.deepEqual(out, ['03:04:05 INFO  m: one\n']);
  assert.deepEqual(calls, ['clear', 'redraw']);
});
