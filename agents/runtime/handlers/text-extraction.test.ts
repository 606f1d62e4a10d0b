import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../../core/logger.ts';
import {
  type HandlerContext,
  type JobInput,
  JobInputError,
  type ResolvedInput,
} from '../../../dvm/handler.ts';
import { htmlToText } from './html.ts';
import { formatOf, OCR_UNAVAILABLE, SPEECH_TO_TEXT_UNAVAILABLE, textExtraction } from './text-extraction.ts';

const ctx: HandlerContext = {
  llm: () => Promise.reject(new Error('text extraction must not call the model')),
  progress: () => {},
  signal: new AbortController().signal,
  logger: silentLogger,
};

function url(text: string, contentType: string): ResolvedInput {
  return { type: 'url', data: 'https://example.com/x', marker: '', text, contentType };
}

function text(t: string): ResolvedInput {
  return { type: 'text', data: t, marker: '', text: t, contentType: '' };
}

async function run(inputs: ResolvedInput[], params: Record<string, string> = {}): Promise<string> {
  const job: JobInput = { id: 'x1', kind: 5000, customer: 'c', inputs, params, output: '' };
  return (await textExtraction.run(job, ctx)).content;
}

const PAGE = `<!DOCTYPE html>
<html><head><title>Menu</title><style>p { color: red }</style>
<script>var x = "<p>not text</p>";</script></head>
<body>
<!-- a comment <p>hidden</p> -->
<nav><a href="/">Home</a> | <a href='/a?x=1&amp;y=2' title="a > b">About</a></nav>
<article>
  <h1>Caf&eacute; &amp; Bar</h1>
  <p>First   paragraph with <b>bold</b> and
     <i>italic</i> text.<br>Line two&nbsp;here &#8212; &#x1F600; &copy 2024 &unknown; &lt;script&gt;</p>
  <div><div><p>Nested <span>deep</span> block.</p></div></div>
  <ul><li>One</li><li>Two</li></ul>
  <table><tr><th>Name</th><th>Age</th></tr><tr><td>Ann</td><td> 31 </td></tr></table>
  <pre><code>if (a &lt; b) {
  return 1;
}</code></pre>
  <p>After &#150; pre.</p>
</article>
<script>unclosed("<p>nope</p>")`;

const PAGE_TEXT = `Home | About

Café & Bar

First paragraph with bold and italic text.
Line two here — 😀 © 2024 &unknown; <script>

Nested deep block.

One
Two

Name | Age
Ann | 31

if (a < b) {
  return 1;
}

After – pre.`;

test('the handler describes itself', () => {
  assert.equal(textExtraction.name, 'text-extraction');
  assert.deepEqual(textExtraction.kinds, [5000]);
  assert.equal(textExtraction.needsLlm, false);
});

test('HTML: scripts, styles, comments and tags go; blocks keep their breaks; entities are decoded', async () => {
  assert.equal(await run([url(PAGE, 'text/html; charset=utf-8')]), PAGE_TEXT);
  assert.equal(htmlToText(PAGE), PAGE_TEXT);
});

test('HTML without a content type is recognised by its look', async () => {
  assert.equal(await run([text(PAGE)]), PAGE_TEXT);
  assert.equal(await run([text('<p>One <b>two</b></p><p>Three</p>')]), 'One two\n\nThree');
  assert.equal(formatOf({ contentType: '', text: '  <body><p>x</p></body>' }), 'html');
  // A lone tag in prose is not enough to treat it as HTML.
  assert.equal(await run([text('Use <b> for bold, e.g. <b>x</b>.')]), 'Use <b> for bold, e.g. <b>x</b>.');
});

test('plain text passes through; JSON is pretty-printed', async () => {
  const plain = 'Line one\n  indented <not a tag> & co.\n\nLine three';
  assert.equal(await run([url(plain, 'text/plain')]), plain);
  assert.equal(await run([text(plain)]), plain);
  assert.equal(await run([url('# Title\n\n*md*', 'text/markdown')]), '# Title\n\n*md*');
  assert.equal(
    await run([url('{"a":1,"b":[true,null]}', 'application/json')]),
    '{\n  "a": 1,\n  "b": [\n    true,\n    null\n  ]\n}',
  );
  assert.equal(await run([url('[1,2]', 'application/ld+json; charset=utf-8')]), '[\n  1,\n  2\n]');
  assert.equal(await run([text(' {"x": "y"} ')]), '{\n  "x": "y"\n}');
  // Labelled JSON but broken, or bracketed prose: returned as text.
  assert.equal(await run([url('{"a":', 'application/json')]), '{"a":');
  assert.equal(await run([text('[1] A reference.')]), '[1] A reference.');
  assert.equal(await run([url('<a><b>x</b></a>', 'application/xml')]), '<a><b>x</b></a>');
});

test('several inputs are separated by one blank line; blank ones are dropped', async () => {
  assert.equal(
    await run([text('first\n\n'), url('<p>second</p>', 'text/html'), text('  '), text('\nthird')]),
    'first\n\nsecond\n\nthird',
  );
});

test('the range param is ignored', async () => {
  assert.equal(await run([text('abc')], { range: '0-1' }), 'abc');
});

test('audio and video need speech-to-text, images OCR: customer errors', async () => {
  for (const type of ['audio/mpeg', 'video/mp4; codecs="avc1"', 'AUDIO/ogg']) {
    await assert.rejects(
      run([url('ID3...', type)]),
      (e: unknown) => e instanceof JobInputError && e.message === SPEECH_TO_TEXT_UNAVAILABLE,
    );
  }
  await assert.rejects(
    run([text('fine'), url('\x89PNG', 'image/png')]),
    (e: unknown) => e instanceof JobInputError && e.message === OCR_UNAVAILABLE,
  );
});

test('other binary content is refused with its content type named', async () => {
  for (const type of ['application/pdf', 'application/octet-stream', 'font/woff2', 'application/zip; x=1']) {
    const mime = type.split(';')[0] ?? '';
    await assert.rejects(
      run([url('%PDF-1.7', type)]),
      (e: unknown) => e instanceof JobInputError && e.message.includes(mime),
    );
  }
});

test('no input, or nothing left after extraction, is a customer error', async () => {
  await assert.rejects(
    run([]),
    (e: unknown) => e instanceof JobInputError && /at least one input/.test(e.message),
  );
  await assert.rejects(
    run([url('<html><script>only()</script><style>x{}</style></html>', 'text/html'), text(' \n ')]),
    (e: unknown) => e instanceof JobInputError && /no text could be extracted/.test(e.message),
  );
});
