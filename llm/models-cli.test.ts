/**
 * `timmy models` and `timmy models fetch` (cli/commands/models.ts), run in-process against loopback servers.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { Command } from 'commander';
import { registerModels } from '../cli/commands/models.ts';
import { CliError, type CliIo } from '../cli/io.ts';
import { buildTinyGguf } from '../tests/fixtures/tiny-gguf.ts';
import { ScriptedProvider } from './scripted.ts';
import { type LoopbackServer, startLoopbackServer } from './testing/loopback-server.ts';
import { startFakeOllama } from './testing/ollama-server.ts';

const model = buildTinyGguf();
const sha = createHash('sha256').update(model).digest('hex');
let voiceArchive = Buffer.alloc(0);
let voiceSha = '';
let dir = '';
let files: LoopbackServer;
let ollama: LoopbackServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'timmy-models-cli-'));
  // A Piper-style voice archive, built with Debian's tar.
  const src = join(dir, 'src', 'vits-piper-test');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'test.onnx'), 'model');
  await writeFile(join(src, 'tokens.txt'), 'a 0\n');
  execFileSync('tar', ['-cjf', join(dir, 'src', 'v.tar.bz2'), '-C', join(dir, 'src'), 'vits-piper-test']);
  voiceArchive = await readFile(join(dir, 'src', 'v.tar.bz2'));
  voiceSha = createHash('sha256').update(voiceArchive).digest('hex');
  files = await startLoopbackServer((req, _body, res) => {
    if (req.url === '/vits-piper-test.tar.bz2') {
      res.writeHead(200, { 'content-length': String(voiceArchive.length) });
      res.end(voiceArchive);
      return;
    }
    if (req.url === '/tiny.gguf') {
      res.writeHead(200, { 'content-length': String(model.length) });
      res.end(model);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  ollama = await startFakeOllama({ backend: new ScriptedProvider(), models: ['llama3.2'] });
});
after(async () => {
  await files.close();
  await ollama.close();
  await rm(dir, { recursive: true, force: true });
});

async function timmy(args: string[], env: Record<string, string> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => {
    out += String(d);
  });
  stderr.on('data', (d) => {
    err += String(d);
  });
  const io: CliIo = {
    stdout,
    stderr,
    env: { TIMMY_LOG_LEVEL: 'silent', ...env },
    cwd: dir,
    waitForStop: () => new Promise<string>(() => {}),
  };
  const result = { code: -1 };
  const program = new Command('timmy')
    .option('-d, --data-dir <dir>')
    .option('-c, --config <file>')
    .option('--log-level <level>')
    .exitOverride()
    .configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s) });
  registerModels(program, io, result);
  let error: CliError | undefined;
  try {
    await program.parseAsync(['-d', join(dir, 'data'), ...args], { from: 'user' });
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    error = e;
  }
  return { code: error ? error.exitCode : result.code, stdout: out, stderr: err, error };
}

test('timmy models with nothing configured says how to enable a model and exits 1', async () => {
  const r = await timmy(['models']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /no language model is configured: set TIMMY_LLM_OLLAMA_URL/);
  assert.match(r.stdout, /llama-cpp +off \(set TIMMY_LLM_LLAMA_CPP_MODEL_PATH\)/);
});

test('timmy models probes the cascade; --json', async () => {
  const env = { TIMMY_LLM_OLLAMA_URL: ollama.url, TIMMY_LLM_ORDER: 'ollama,llamaCpp' };
  const text = await timmy(['models'], env);
  assert.equal(text.code, 0);
  assert.match(
    text.stdout,
    /cascade: ollama\n {2}1\. ollama +http:\/\/127\.0\.0\.1:\d+ {2}model llama3\.2\n +ok: model llama3\.2 is pulled/,
  );
  const json = await timmy(['models', '--json'], {
    ...env,
    TIMMY_LLM_LLAMA_CPP_MODEL_PATH: join(dir, 'none.gguf'),
  });
  assert.equal(json.code, 1, 'the missing model file fails the check');
  const doc = JSON.parse(json.stdout) as {
    ok: boolean;
    cascade: string[];
    providers: { name: string; ok: boolean }[];
  };
  assert.equal(doc.ok, false);
  assert.deepEqual(doc.cascade, ['ollama', 'llama-cpp']);
  assert.deepEqual(
    doc.providers.map((p) => [p.name, p.ok]),
    [
      ['ollama', true],
      ['llama-cpp', false],
      ['openai', false],
    ],
  );
});

test('timmy models fetch downloads into <data-dir>/models, shows progress and the setting', async () => {
  const r = await timmy(['models', 'fetch', `${files.url}/tiny.gguf`, '--sha256', sha]);
  assert.equal(r.code, 0, r.stderr);
  const path = join(dir, 'data', 'models', 'tiny.gguf');
  assert.ok((await readFile(path)).equals(model));
  assert.match(r.stderr, /downloading http:\/\/127\.0\.0\.1:\d+\/tiny\.gguf/);
  assert.match(r.stderr, /download 100% {2}0\.\d\/0\.\d MB/);
  assert.match(r.stdout, /saved .*tiny\.gguf \(0\.\d MB, sha256 verified\)/);
  assert.ok(r.stdout.includes(`  TIMMY_LLM_LLAMA_CPP_MODEL_PATH=${path}\n`));
  const again = await timmy(['models', 'fetch', `${files.url}/tiny.gguf`, '--sha256', sha, '--json']);
  assert.equal(again.code, 0);
  const doc = JSON.parse(again.stdout) as { alreadyPresent: boolean; setting: string; bytes: number };
  assert.equal(doc.alreadyPresent, true);
  assert.equal(doc.bytes, model.length);
  assert.equal(doc.setting, `TIMMY_LLM_LLAMA_CPP_MODEL_PATH=${path}`);
});

test('timmy models fetch: --out, a checksum mismatch, a 404, a missing --sha256', async () => {
  const out = join(dir, 'my models', 'x.gguf');
  const ok = await timmy([
    'models',
    'fetch',
    `${files.url}/tiny.gguf`,
    '--sha256',
    sha,
    '--out',
    'my models/x.gguf',
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(ok.stdout.includes(`TIMMY_LLM_LLAMA_CPP_MODEL_PATH='${out}'`), 'a path with a space is quoted');
  const wrong = 'f'.repeat(64);
  const bad = await timmy([
    'models',
    'fetch',
    `${files.url}/tiny.gguf`,
    '--sha256',
    wrong,
    '--out',
    'bad/x.gguf',
  ]);
  assert.equal(bad.code, 1);
  assert.ok(bad.error?.message.includes(wrong) && bad.error.message.includes(sha));
  assert.deepEqual(await readdir(join(dir, 'bad')), []);
  const missing = await timmy([
    'models',
    'fetch',
    `${files.url}/nope.gguf`,
    '--sha256',
    sha,
    '--out',
    'm/x.gguf',
  ]);
  assert.equal(missing.code, 1);
  assert.match(missing.error?.message ?? '', /HTTP 404/);
  const noSum = await timmy(['models', 'fetch', `${files.url}/tiny.gguf`]);
  assert.equal(noSum.code, 2);
  assert.match(noSum.error?.message ?? '', /--sha256 <hex> is required for a URL/);
});

test('timmy models fetch <catalog name>: a speech model archive, extracted, with the voice setting', async () => {
  const unknown = await timmy(['models', 'fetch', 'whisper-huge']);
  assert.equal(unknown.code, 2);
  assert.match(
    unknown.error?.message ?? '',
    /neither a URL nor a model of the catalog \(moonshine-tiny-en, whisper-tiny-en,/,
  );
  // The catalog has no public checksum for this one: the user must give it.
  const noSum = await timmy(['models', 'fetch', 'parakeet-tdt-0.6b-v2']);
  assert.equal(noSum.code, 2);
  assert.match(noSum.error?.message ?? '', /no checksum for parakeet-tdt-0\.6b-v2 .*give --sha256 <hex>/);
  const differs = await timmy(['models', 'fetch', 'moonshine-tiny-en', '--sha256', 'a'.repeat(64)]);
  assert.equal(differs.code, 2);
  assert.match(differs.error?.message ?? '', /differs from the catalog's d5fe6ec4/);
  // An archive by URL: extracted into <data-dir>/models/<name>, the setting for the kind of model found.
  const r = await timmy(['models', 'fetch', `${files.url}/vits-piper-test.tar.bz2`, '--sha256', voiceSha]);
  assert.equal(r.code, 0, r.error?.message);
  const out = join(dir, 'data', 'models', 'vits-piper-test');
  assert.deepEqual((await readdir(out)).filter((f) => !f.startsWith('.')).sort(), [
    'test.onnx',
    'tokens.txt',
  ]);
  assert.ok(r.stdout.includes(`  TIMMY_VOICE_TTS=sherpa TIMMY_VOICE_TTS_MODEL_DIR=${out}\n`), r.stdout);
});
