import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecordingTracing } from './recording-tracing.ts';
import { noSpan, noTracing, withSpan } from './tracing.ts';

test('withSpan: a child span ended after run, with its error when run throws; run alone when tracing is off', async () => {
  const tracing = new RecordingTracing();
  const parent = tracing.start('parent');
  assert.equal(await withSpan(tracing, 'ok', parent, { a: 1 }, async () => 42), 42);
  await assert.rejects(
    withSpan(tracing, 'bad', parent, {}, async () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  const [ok, bad] = tracing.ended;
  assert.equal(ok?.name, 'ok');
  assert.equal(ok?.attributes.a, 1);
  assert.equal(ok?.parentSpanId, parent.logFields.span_id);
  assert.equal(bad?.error, 'boom');
  let given: unknown;
  await withSpan(noTracing, 'x', noSpan, {}, async (s) => {
    given = s;
  });
  assert.equal(given, noSpan);
});
