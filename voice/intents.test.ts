import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ScriptedProvider } from '../llm/scripted.ts';
import { IntentParser, intentPhrases, llmIntent, ruleIntent, urlOf } from './intents.ts';
import { buildCommandGrammar, loadDictionary } from './pocketsphinx-command.ts';
import { pocketsphinxModel } from './pocketsphinx-stt.ts';
import { fileExists } from './subprocess.ts';

describe('intent rules', () => {
  test('status, balance and approve, however they are said', () => {
    for (const s of [
      'status',
      'How are things?',
      'hey timmy how are things',
      "What's the status",
      'STATUS please',
    ])
      assert.equal(ruleIntent(s)?.type, 'status', s);
    for (const s of [
      'balance',
      "what's my balance",
      'how many sats do we have',
      'Timmy, what is the balance?',
    ])
      assert.equal(ruleIntent(s)?.type, 'balance', s);
    assert.deepEqual(ruleIntent('approve'), { type: 'approve', by: 'rules' });
    assert.deepEqual(ruleIntent('approve job 3f2a9c01'), { type: 'approve', job: '3f2a9c01', by: 'rules' });
  });

  test('a job of a kind the network serves, with a URL typed or spoken', () => {
    assert.deepEqual(ruleIntent('summarize https://example.com/a?b=1'), {
      type: 'submit',
      kind: 5001,
      label: 'a summary',
      input: { data: 'https://example.com/a?b=1', type: 'url' },
      by: 'rules',
    });
    const spoken = ruleIntent('summarize example dot com slash news');
    assert.equal(spoken?.type, 'submit');
    assert.deepEqual(spoken?.type === 'submit' && spoken.input, {
      data: 'https://example.com/news',
      type: 'url',
    });
    const tr = ruleIntent('Translate good morning my friends into Spanish.');
    assert.equal(tr?.type === 'submit' && tr.kind, 5002);
    assert.deepEqual(tr?.type === 'submit' && tr.params, { language: 'Spanish' });
    assert.deepEqual(tr?.type === 'submit' && tr.input, { data: 'good morning my friends', type: 'text' });
    assert.equal(ruleIntent('repeat after me hello there')?.type === 'submit' && 5700, 5700);
    assert.equal(ruleIntent('extract the text from example.org')?.type === 'submit' && 5000, 5000);
  });

  test('what the rules do not know is left undefined; a verb without its input is not a job', () => {
    assert.equal(ruleIntent('what is the capital of France'), undefined);
    assert.equal(ruleIntent('summarize'), undefined);
    assert.equal(ruleIntent('translate hello'), undefined, 'a translation needs its language');
    assert.deepEqual(ruleIntent('   '), { type: 'none', by: 'rules' });
  });

  test('urls: typed, spoken with "dot", and text that is not one', () => {
    assert.equal(urlOf('example.com'), 'https://example.com');
    assert.equal(urlOf('http://x.org/p'), 'http://x.org/p');
    assert.equal(urlOf('news dot bbc dot co dot uk'), 'https://news.bbc.co.uk');
    assert.equal(urlOf('the meeting notes'), undefined);
    assert.equal(urlOf('a.b c'), undefined);
  });

  test('intentPhrases lists every fixed phrase once, each recognized by the rules', () => {
    const phrases = intentPhrases();
    assert.equal(new Set(phrases).size, phrases.length);
    assert.ok(phrases.includes('how are things') && phrases.includes('summarize'));
    for (const p of phrases) {
      const i = ruleIntent(p);
      // A job verb alone has no input: the grammar gives the verb, the rest is dictation.
      if (i === undefined) assert.ok(/^(sum|transl|extract|get the|echo|repeat)/.test(p), p);
      else assert.notEqual(i.type, 'ask', p);
    }
  });
});

test('a pocketsphinx command grammar builds from intentPhrases: every phrase kept but those with words cmudict lacks', {
  skip: fileExists(pocketsphinxModel().dict) ? false : 'pocketsphinx-en-us is not installed',
}, () => {
  const g = buildCommandGrammar(intentPhrases(), loadDictionary(pocketsphinxModel().dict));
  assert.deepEqual(
    g.skipped.map((s) => s.unknown),
    [['sats'], ['summarise']],
  );
  assert.equal(g.phrases.length, intentPhrases().length - 2);
});

describe('IntentParser with a model', () => {
  test('the rules answer first: the model is not called for what they know', async () => {
    const llm = new ScriptedProvider();
    const parser = new IntentParser({ llm });
    assert.equal((await parser.parse('how are things')).type, 'status');
    assert.equal(llm.calls.length, 0);
  });

  test('the model sorts what the rules leave to "ask"', async () => {
    const llm = new ScriptedProvider().queue(
      '{"intent":"balance"}',
      'Sure! {"intent":"submit","kind":5002,"input":"hello","language":"French"}',
      '{"intent":"ask"}',
    );
    const parser = new IntentParser({ llm });
    assert.deepEqual(await parser.parse('do we still have money left'), { type: 'balance', by: 'llm' });
    const tr = await parser.parse('say hello in French for me');
    assert.equal(tr.type === 'submit' && tr.kind, 5002);
    assert.deepEqual(tr.type === 'submit' && tr.params, { language: 'French' });
    assert.deepEqual(await parser.parse('why is the sky blue'), {
      type: 'ask',
      question: 'why is the sky blue',
      by: 'llm',
    });
    assert.equal(llm.calls.length, 3);
    assert.match(llm.calls[0]?.messages[0]?.content ?? '', /JSON only/);
  });

  test('garbage, an unknown kind, a failure or a hang leave it a question, never an action', async () => {
    const llm = new ScriptedProvider().queue(
      'I think they want the status',
      '{"intent":"submit","kind":5050,"input":"x"}',
      '{"intent":"delete everything"}',
      { error: 'model crashed' },
      { hang: true },
    );
    const parser = new IntentParser({ llm, llmTimeoutMs: 200 });
    for (let i = 0; i < 5; i++) {
      const r = await parser.parse('please do the thing');
      assert.deepEqual(r, { type: 'ask', question: 'please do the thing', by: 'rules' }, `answer ${i}`);
    }
  });

  test('the caller aborting rejects', async () => {
    const parser = new IntentParser({ llm: new ScriptedProvider().queue({ hang: true }) });
    const ac = new AbortController();
    const p = parser.parse('what now', ac.signal);
    ac.abort();
    await assert.rejects(p);
  });

  test('llmIntent refuses a translation without a plausible language and keeps a URL a URL', () => {
    assert.equal(
      llmIntent('{"intent":"submit","kind":5002,"input":"x","language":"<script>"}', 'x'),
      undefined,
    );
    const s = llmIntent('{"intent":"submit","kind":5001,"input":"example.com"}', 'x');
    assert.deepEqual(s?.type === 'submit' && s.input, { data: 'https://example.com', type: 'url' });
  });
});
