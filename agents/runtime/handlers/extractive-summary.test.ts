import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../../core/logger.ts';
import {
  type HandlerContext,
  type JobInput,
  JobInputError,
  type ResolvedInput,
} from '../../../dvm/handler.ts';
import { countWords, extractiveSummary, summarize } from './extractive-summary.ts';

const ARTICLE = `Harbor Point, a fishing town of 4,000 people, has become the first community in the region to run its own solar microgrid. The microgrid links 1,200 rooftop solar panels with a shared battery bank, so the town can keep its lights on when the mainland grid fails. Construction took two years and cost $6.2 million, most of it covered by a state resilience grant.

The idea came after the storm of 2019, when the town lost power for eleven days. Fishermen could not refrigerate their catch, and the clinic ran on a borrowed generator. "We decided we would never be that helpless again," said Dr. Amara Osei, who chairs the town energy committee. She spent a winter visiting other towns. The coffee in those meetings was usually terrible, she recalled.

The battery bank stores enough solar energy to power the clinic, the school and the harbor freezers for three days without sun. During normal weather the microgrid sells surplus solar power back to the mainland grid, and the income pays for battery maintenance. Engineers expect the battery bank to last fifteen years before it needs replacement.

Not everyone was convinced at first. Some residents worried that the panels would spoil the view of the old lighthouse. The committee held 14 public meetings, e.g. at the school gym and the harbor office, before the vote passed. Local children painted a mural on the battery building.

Other coastal towns are now studying the Harbor Point microgrid as a model for storm resilience. The state energy office plans to fund five similar solar microgrids by 2027. Dr. Osei says the real lesson is simple: a town that makes its own power does not have to wait in the dark.`;

const LEAD =
  'Harbor Point, a fishing town of 4,000 people, has become the first community in the region to run its own solar microgrid.';
const LINKS =
  'The microgrid links 1,200 rooftop solar panels with a shared battery bank, so the town can keep its lights on when the mainland grid fails.';
const STORES =
  'The battery bank stores enough solar energy to power the clinic, the school and the harbor freezers for three days without sun.';
const MODEL =
  'Other coastal towns are now studying the Harbor Point microgrid as a model for storm resilience.';
const ASIDES = ['coffee', 'mural', 'lighthouse', 'Not everyone', 'winter visiting'];

const ctx: HandlerContext = {
  llm: () => Promise.reject(new Error('the summarizer must not call the model')),
  progress: () => {},
  signal: new AbortController().signal,
  logger: silentLogger,
};

function text(t: string): ResolvedInput {
  return { type: 'text', data: t, marker: '', text: t, contentType: '' };
}

function job(inputs: ResolvedInput[], params: Record<string, string> = {}): JobInput {
  return { id: 's1', kind: 5001, customer: 'c', inputs, params, output: '' };
}

async function run(inputs: ResolvedInput[], params: Record<string, string> = {}): Promise<string> {
  return (await extractiveSummary.run(job(inputs, params), ctx)).content;
}

/** The picked sentences must appear in the article in the order they are output. */
function assertInOrder(summary: string, picked: string[]): void {
  assert.equal(summary, picked.join(' '));
  const positions = picked.map((s) => ARTICLE.indexOf(s));
  assert.ok(positions.every((p) => p >= 0));
  assert.deepEqual(
    positions,
    [...positions].sort((a, b) => a - b),
  );
}

test('the handler describes itself', () => {
  assert.equal(extractiveSummary.name, 'extractive-summary');
  assert.deepEqual(extractiveSummary.kinds, [5001]);
  assert.equal(extractiveSummary.needsLlm, false);
});

test('picks the salient sentences of an article and keeps their original order', async () => {
  const summary = await run([text(ARTICLE)], { sentences: '3' });
  assertInOrder(summary, [LEAD, LINKS, STORES]);
  for (const aside of ASIDES) assert.ok(!summary.includes(aside), `picked an aside: ${aside}`);
  assert.equal(await run([text(ARTICLE)], { sentences: '1' }), LEAD);
});

test('the default length is about a fifth of the text, and `length` is a synonym of `sentences`', async () => {
  // 18 sentences: 20% rounds to 4.
  assertInOrder(await run([text(ARTICLE)]), [LEAD, LINKS, STORES, MODEL]);
  assert.equal(await run([text(ARTICLE)], { length: '2' }), await run([text(ARTICLE)], { sentences: '2' }));
  // `sentences` wins over `length`.
  assert.equal(await run([text(ARTICLE)], { length: '5', sentences: '1' }), LEAD);
});

test('the default never goes above 7 sentences', () => {
  const long = Array.from(
    { length: 60 },
    (_, i) => `Sentence number ${i} talks about topic ${i % 7} today.`,
  ).join(' ');
  assert.equal(summarize(long).match(/Sentence number/g)?.length, 7);
});

test('`words` caps the summary length; a single sentence that is too long is cut', async () => {
  const capped = await run([text(ARTICLE)], { words: '40' });
  assert.ok(countWords(capped) <= 40, capped);
  assertInOrder(capped, [LEAD, MODEL]);
  assert.equal(await run([text(ARTICLE)], { words: '5' }), 'Harbor Point, a fishing town…');
  const both = await run([text(ARTICLE)], { sentences: '5', words: '60' });
  assert.ok(countWords(both) <= 60);
});

test('deterministic, and several inputs are concatenated as paragraphs', async () => {
  const whole = await run([text(ARTICLE)], { sentences: '4' });
  assert.equal(await run([text(ARTICLE)], { sentences: '4' }), whole);
  const parts = ARTICLE.split('\n\n').map(text);
  assert.equal(parts.length, 5);
  assert.equal(await run(parts, { sentences: '4' }), whole);
});

test('text no longer than the requested summary is returned as is', async () => {
  assert.equal(await run([text('  Just one sentence here.  ')]), 'Just one sentence here.');
  const three = 'First point. Second point!\nThird point?';
  assert.equal(await run([text(three)], { sentences: '3' }), three);
  assert.equal(await run([text(three)], { sentences: '10', words: '100' }), three);
  assert.notEqual(await run([text(three)], { sentences: '10', words: '4' }), three);
});

test('near-duplicate sentences are not picked twice', () => {
  const t =
    'Solar batteries store energy for the night. Solar batteries store the energy for the night. ' +
    'Wind turbines add power in winter storms. Tea is nice.';
  const out = summarize(t, { sentences: 2 });
  assert.equal(out, 'Solar batteries store energy for the night. Wind turbines add power in winter storms.');
});

test('headings are not picked, and the sentence after a heading counts as an opener', () => {
  const t =
    '# Solar microgrid report\n\nThe solar microgrid kept the town powered during the storm. ' +
    'Residents liked it. The microgrid battery held enough solar energy for three days. Lunch was served.';
  const out = summarize(t, { sentences: 2 });
  assert.equal(
    out,
    'The solar microgrid kept the town powered during the storm. The microgrid battery held enough solar energy for three days.',
  );
});

test('non-Latin text is summarized with whole sentences from the input', () => {
  const zh =
    '太阳能微电网让小镇在停电时保持供电。微电网连接屋顶太阳能板和共享电池。' +
    '镇上的咖啡很难喝。电池储存的太阳能可以供电三天。孩子们画了一幅壁画。';
  const out = summarize(zh, { sentences: 2 });
  assert.equal(summarize(zh, { sentences: 2 }), out);
  assert.ok(!out.includes('咖啡') && !out.includes('壁画'), out);
  assert.ok(out.startsWith('太阳能微电网让小镇在停电时保持供电。'), out);
  assert.equal(countWords('中文 words'), 3);
});

test('empty or blank text is a customer error', async () => {
  for (const inputs of [[], [text('')], [text('  \n\t '), text('')]]) {
    await assert.rejects(
      run(inputs),
      (e: unknown) => e instanceof JobInputError && /needs some text/.test(e.message),
    );
  }
});

test('bad params are customer errors naming the param', async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ sentences: '0' }, /"sentences"/],
    [{ sentences: 'three' }, /"sentences"/],
    [{ length: '2.5' }, /"length"/],
    [{ words: '-1' }, /"words"/],
    [{ words: '1e3' }, /"words"/],
  ];
  for (const [params, re] of cases) {
    await assert.rejects(
      run([text(ARTICLE)], params),
      (e: unknown) => e instanceof JobInputError && re.test(e.message),
    );
  }
  // Blank params are treated as absent.
  assert.equal(await run([text(ARTICLE)], { sentences: ' ' }), await run([text(ARTICLE)]));
});
