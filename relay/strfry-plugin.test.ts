import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough, Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { loadPluginConfig } from '../cli/strfry-plugin-main.ts';
import { loadConfig } from '../core/config.ts';
import { MemoryLogger, silentLogger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { kindPolicy, standardPolicies, standardPolicyOptions } from './policies.ts';
import type { Policy } from './policy.ts';
import { runStrfryPlugin, type StrfryAnswer } from './strfry-plugin.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SK = generateSecretKey();
const now = (): number => Math.floor(Date.now() / 1000);

function signed(
  over: { kind?: number; content?: string; created_at?: number; tags?: string[][] } = {},
): NostrEvent {
  return finalizeEvent(
    {
      kind: over.kind ?? 1,
      content: over.content ?? 'hello from a test',
      created_at: over.created_at ?? now(),
      tags: over.tags ?? [],
    },
    SK,
  );
}

function request(event: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'new',
    event,
    receivedAt: now(),
    sourceType: 'IP4',
    sourceInfo: '203.0.113.7',
    ...extra,
  });
}

/** Parses stdout strictly: every line must be a protocol answer and nothing else. */
function parseAnswers(stdout: string): StrfryAnswer[] {
  if (stdout === '') return [];
  assert.ok(stdout.endsWith('\n'), 'stdout ends with a newline');
  return stdout
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const a = JSON.parse(line) as Record<string, unknown>;
      assert.deepEqual(Object.keys(a).sort(), ['action', 'id', 'msg'], `protocol line: ${line}`);
      assert.equal(typeof a.id, 'string');
      assert.ok(['accept', 'reject', 'shadowReject'].includes(a.action as string), `action: ${line}`);
      assert.equal(typeof a.msg, 'string');
      return a as unknown as StrfryAnswer;
    });
}

/** Parses stderr strictly: every line is one of the project's log records (observability/logger.ts). */
function parseLogs(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const rec = JSON.parse(l) as Record<string, unknown>;
      assert.ok(['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(rec.level as string), l);
      assert.ok(!Number.isNaN(Date.parse(rec.time as string)), l);
      assert.equal(typeof rec.msg, 'string', l);
      return rec;
    });
}

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('TIMMY_')) env[k] = v;
  return { ...env, ...extra };
}

/** The plugin as strfry starts it (deploy/strfry.conf). */
function spawnPlugin(env: Record<string, string>) {
  return spawn(process.execPath, ['bin/strfry-plugin.js'], {
    cwd: ROOT,
    env: cleanEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Collects a child process's output after giving it `input`. */
function collect(
  child: ReturnType<typeof spawnPlugin>,
  input: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => {}); // the process may exit before reading everything (bad config)
    child.stdin.end(input);
  });
}

/** Runs the real plugin process on `input` and returns what it printed. */
function runPluginProcess(
  input: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return collect(spawnPlugin(env), input);
}

const tmp = mkdtempSync(join(tmpdir(), 'timmy-strfry-plugin-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('strfry-plugin executable (bin/strfry-plugin.js)', () => {
  test('answers real signed events and malformed lines, one protocol line per answerable request', async () => {
    const configFile = join(tmp, 'config.json');
    writeFileSync(configFile, JSON.stringify({ relay: { rejectKinds: [4], auth: 'write' } }));

    const ok = signed();
    const dm = signed({ kind: 4, content: 'secret' });
    const big = signed({ content: 'x'.repeat(1001) });
    const future = signed({ created_at: now() + 2000 });
    const truncated = signed();
    const unknownType = signed();
    const badShape = { ...signed(), kind: '1' };
    const noSource = signed();
    const huge = signed({ content: 'y'.repeat(2 * 1024 * 1024) });
    const fromAuthed = signed();
    const last = signed({ content: 'still alive' });
    const { id: _dropped, ...noId } = signed();

    const lines = [
      request(ok),
      request(dm),
      request(big),
      request(future),
      'this is not json',
      request(truncated).slice(0, -40),
      JSON.stringify({ type: 'new' }),
      request(noId),
      request(unknownType, { type: 'frobnicate' }),
      JSON.stringify({ type: 'lookback', event: signed(), receivedAt: now(), sourceType: 'Import' }),
      '',
      '[1,2,3]',
      request(badShape),
      request(noSource, { sourceType: undefined }),
      request(huge),
      request(fromAuthed, { authed: getPublicKey(SK), sourceType: 'IP6', sourceInfo: '2001:db8::1' }),
      request(last),
    ];
    const { code, stdout, stderr } = await runPluginProcess(`${lines.join('\n')}\n`, {
      TIMMY_CONFIG: configFile,
      TIMMY_RELAY_LIMITS_MAX_CONTENT_BYTES: '1000',
      TIMMY_LOG_LEVEL: 'debug',
    });
    assert.equal(code, 0, stderr);

    const answers = parseAnswers(stdout);
    const expect: [NostrEvent | typeof badShape, StrfryAnswer['action'], RegExp][] = [
      [ok, 'accept', /^$/],
      [dm, 'reject', /^blocked: kind 4/],
      [big, 'reject', /^invalid: content too large/],
      [future, 'reject', /^invalid: created_at .* future/],
      [truncated, 'reject', /^invalid: malformed/],
      [unknownType, 'reject', /^error: unsupported write-policy request type "frobnicate"/],
      [badShape, 'reject', /^invalid: malformed event \(kind\)/],
      [noSource, 'reject', /^invalid: malformed write-policy request \(no sourceType\)/],
      [huge, 'reject', /^invalid: content too large \(2097152 bytes/],
      [fromAuthed, 'accept', /^$/],
      [last, 'accept', /^$/],
    ];
    assert.equal(answers.length, expect.length, stdout);
    expect.forEach(([ev, action, msg], i) => {
      const a = answers[i];
      assert.ok(a);
      assert.equal(a.id, ev.id, `answer ${i}`);
      assert.equal(a.action, action, `answer ${i}: ${a.msg}`);
      assert.match(a.msg, msg, `answer ${i}`);
    });

    const logs = parseLogs(stderr);
    assert.ok(logs.some((r) => r.msg === 'write-policy plugin ready' && r.name === 'strfry-plugin'));
    const skipped = logs.filter((r) => r.level === 'warn' && String(r.msg).startsWith('skipped'));
    assert.equal(skipped.length, 4, 'not json, no event, no id, not an object'); // each logged, none answered
    assert.ok(
      logs.some((r) => r.level === 'debug' && r.msg === 'decided'),
      'debug level from TIMMY_LOG_LEVEL',
    );
  });

  test('answers each request before strfry sends the next one', async () => {
    const child = spawnPlugin({});
    const answers = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    try {
      for (let i = 0; i < 5; i++) {
        const ev = signed({ content: `message ${i}` });
        child.stdin.write(`${request(ev)}\n`);
        const next = await answers.next();
        assert.equal(next.done, false);
        assert.deepEqual(JSON.parse(next.value as string), { id: ev.id, action: 'accept', msg: '' });
      }
    } finally {
      child.stdin.end();
    }
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(code, 0);
  });

  test('a bad configuration stops the plugin with a logged error and nothing on stdout', async () => {
    const r = await runPluginProcess(`${request(signed())}\n`, { TIMMY_RELAY_AUTH: 'sometimes' });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const logs = parseLogs(r.stderr);
    assert.ok(
      logs.some((l) => l.level === 'error' && /relay\.auth/.test(JSON.stringify(l))),
      r.stderr,
    );

    const badJson = join(tmp, 'bad.json');
    writeFileSync(badJson, '{ not json');
    const r2 = await runPluginProcess('', { TIMMY_CONFIG: badJson });
    assert.equal(r2.code, 1);
    assert.equal(r2.stdout, '');
    assert.match(r2.stderr, /not valid JSON/);
  });
  test('secrets in the configuration stay out of its logs, even at debug, where it logs its configuration', async () => {
    const hex = 'ab'.repeat(32);
    const configFile = join(tmp, 'secret-config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        identity: { passphrase: 'hunter2-from-the-file' },
        payments: { nwcUrl: `nostr+walletconnect://${hex}?relay=wss://r.example&secret=${'5e'.repeat(32)}` },
      }),
    );
    const ev = signed();
    const r = await runPluginProcess(`${request(ev)}\n`, {
      TIMMY_CONFIG: configFile,
      TIMMY_LOG_LEVEL: 'debug',
      TIMMY_LLM_OPENAI_API_KEY: 'sk-from-the-environment',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(parseAnswers(r.stdout), [{ id: ev.id, action: 'accept', msg: '' }]);
    for (const secret of ['hunter2-from-the-file', '5e'.repeat(32), 'sk-from-the-environment']) {
      assert.ok(!r.stderr.includes(secret), `${secret} logged: ${r.stderr}`);
      assert.ok(!r.stdout.includes(secret), `${secret} on stdout`);
    }
    const logged = parseLogs(r.stderr).find((l) => l.msg === 'configuration');
    assert.ok(logged, r.stderr);
    const config = logged.config as {
      identity: { passphrase: string };
      payments: { nwcUrl: string };
      llm: { openai: { apiKey: string } };
      relay: unknown;
    };
    assert.equal(config.identity.passphrase, '[redacted]');
    assert.equal(config.payments.nwcUrl, '[redacted]');
    assert.equal(config.llm.openai.apiKey, '[redacted]');
    assert.deepEqual(config.relay, loadConfig().config.relay);
  });
});

/** Feeds `chunks` to runStrfryPlugin in-process and returns the answers. */
async function runInProcess(
  chunks: (string | Buffer)[],
  policies: readonly Policy[],
  options: Parameters<typeof runStrfryPlugin>[4] = {},
  logger = silentLogger,
): Promise<StrfryAnswer[]> {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.setEncoding('utf8').on('data', (d: string) => {
    text += d;
  });
  const done = runStrfryPlugin(input, output, policies, logger, options);
  for (const c of chunks) input.write(c);
  input.end();
  await done;
  return parseAnswers(text);
}

const STANDARD = standardPolicies(standardPolicyOptions(loadConfig().config.relay));

describe('runStrfryPlugin', () => {
  test('answers in input order when policies finish out of order', async () => {
    const events = Array.from({ length: 20 }, (_, i) => signed({ content: `n${i}` }));
    // later events finish first; every third one is rejected
    const slowThenDecide: Policy = async (input) => {
      const n = Number(input.event.content.slice(1));
      await new Promise((r) => setTimeout(r, (20 - n) * 3));
      return n % 3 === 0 ? { action: 'reject', message: `blocked: ${n}` } : { action: 'accept' };
    };
    const answers = await runInProcess([events.map((e) => `${request(e)}\n`).join('')], [slowThenDecide]);
    assert.deepEqual(
      answers.map((a) => a.id),
      events.map((e) => e.id),
    );
    answers.forEach((a, i) => {
      assert.equal(a.action, i % 3 === 0 ? 'reject' : 'accept');
      if (i % 3 === 0) assert.equal(a.msg, `blocked: ${i}`);
    });
  });

  test('evaluates requests concurrently, at most maxInFlight at a time', async () => {
    let running = 0;
    let peak = 0;
    const counting: Policy = async (_i, next) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return next();
    };
    const events = Array.from({ length: 30 }, () => signed());
    const answers = await runInProcess([events.map((e) => `${request(e)}\n`).join('')], [counting], {
      maxInFlight: 4,
    });
    assert.equal(answers.length, 30);
    assert.ok(peak > 1 && peak <= 4, `peak ${peak}`);
  });

  test('reassembles lines split anywhere, including inside UTF-8 characters', async () => {
    const ev = signed({ content: 'héllo wörld ✨ 🦀' });
    const bytes = Buffer.from(`${request(ev)}\n${request(signed({ kind: 4 }))}\n`, 'utf8');
    const chunks = Array.from(bytes, (b) => Buffer.from([b])); // one byte at a time
    const answers = await runInProcess(chunks, [kindPolicy({ rejectKinds: [4] })]);
    assert.equal(answers.length, 2);
    assert.deepEqual(answers[0], { id: ev.id, action: 'accept', msg: '' });
    assert.equal(answers[1]?.action, 'reject');
  });

  test('accepts CRLF line ends and a last line without a newline', async () => {
    const a = signed();
    const b = signed();
    const answers = await runInProcess([`${request(a)}\r\n\r\n${request(b)}`], STANDARD);
    assert.deepEqual(
      answers.map((x) => [x.id, x.action]),
      [
        [a.id, 'accept'],
        [b.id, 'accept'],
      ],
    );
  });

  test('a line over maxLineBytes is rejected by its event id without being buffered, and the next line is fine', async () => {
    const big = signed({ content: 'z'.repeat(50_000) });
    const after = signed();
    const logger = new MemoryLogger();
    const answers = await runInProcess(
      [
        `${request(big)}\n`,
        `{"type":"new","event":{"content":"${'q'.repeat(5000)}"}}\n`,
        `${request(after)}\n`,
      ],
      STANDARD,
      { maxLineBytes: 4096 },
      logger,
    );
    assert.deepEqual(answers, [
      {
        id: big.id,
        action: 'reject',
        msg: `invalid: request too large (${Buffer.byteLength(request(big))} bytes)`,
      },
      { id: after.id, action: 'accept', msg: '' },
    ]);
    assert.ok(logger.records.some((r) => r.level === 'warn' && r.msg.includes('without an event id')));
  });

  test('passes shadowReject through and turns a throwing policy into a rejection', async () => {
    const shadow = signed({ kind: 7 });
    const boom = signed({ kind: 8 });
    const ok = signed({ kind: 1 });
    const policy: Policy = (input, next) => {
      if (input.event.kind === 7) return { action: 'shadowReject', message: 'blocked: quietly' };
      if (input.event.kind === 8) throw new Error('kaboom');
      return next();
    };
    const answers = await runInProcess(
      [shadow, boom, ok].map((e) => `${request(e)}\n`),
      [policy],
    );
    assert.deepEqual(answers[0], { id: shadow.id, action: 'shadowReject', msg: 'blocked: quietly' });
    assert.equal(answers[1]?.action, 'reject');
    assert.match(answers[1]?.msg ?? '', /^error: .*kaboom/);
    assert.deepEqual(answers[2], { id: ok.id, action: 'accept', msg: '' });
  });

  test('gives policies the request as PolicyInput, with the authed pubkey when strfry sends one', async () => {
    const seen: unknown[] = [];
    const spy: Policy = (input, next) => {
      seen.push({ ...input, authedPubkeys: [...input.authedPubkeys] });
      return next();
    };
    const ev = signed();
    await runInProcess(
      [
        `${request(ev, { receivedAt: 1234, sourceType: 'Stream', sourceInfo: 'wss://relay.example', authed: 'AB'.repeat(32) })}\n`,
        `${request(ev, { receivedAt: 99, sourceType: 'IP4', sourceInfo: '198.51.100.2' })}\n`,
      ],
      [spy],
    );
    const plain = JSON.parse(JSON.stringify(ev)) as NostrEvent;
    assert.deepEqual(seen, [
      {
        event: plain,
        authedPubkeys: ['ab'.repeat(32)],
        ip: 'wss://relay.example',
        source: 'Stream',
        receivedAt: 1234,
      },
      { event: plain, authedPubkeys: [], ip: '198.51.100.2', source: 'IP4', receivedAt: 99 },
    ]);
  });

  test('auth write does not block events that strfry delivers', async () => {
    const { config } = loadConfig({ env: { TIMMY_RELAY_AUTH: 'write' } });
    const ev = signed();
    const answers = await runInProcess(
      [`${request(ev)}\n`],
      standardPolicies(standardPolicyOptions(config.relay)),
    );
    assert.deepEqual(answers, [{ id: ev.id, action: 'accept', msg: '' }]);
  });

  test('long rejection messages are shortened to fit strfry’s answer line limit', async () => {
    const ev = signed();
    const wordy: Policy = () => ({ action: 'reject', message: `blocked: ${'very '.repeat(1000)}long` });
    const [a] = await runInProcess([`${request(ev)}\n`], [wordy]);
    assert.ok(a && a.msg.length <= 1000 && a.msg.startsWith('blocked: very'));
  });

  test('rejects when the output fails instead of hanging', async () => {
    const input = new PassThrough();
    const output = new Writable({
      write(_chunk, _enc, cb) {
        cb(new Error('EPIPE'));
      },
    });
    const done = runStrfryPlugin(input, output, STANDARD, silentLogger);
    input.write(`${request(signed())}\n`);
    input.write(`${request(signed())}\n`);
    await assert.rejects(done, /EPIPE/);
  });
});

/** Runs `calls` in a fresh process with `log`, the plugin's logger at `level`, and returns what it printed. */
function runLoggerProcess(
  level: string,
  calls: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const main = pathToFileURL(join(ROOT, 'cli', 'strfry-plugin-main.ts')).href;
  const code = `const { createPluginLogger } = await import(${JSON.stringify(main)});
const log = createPluginLogger(${JSON.stringify(level)});
${calls}`;
  return collect(
    spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: ROOT,
      env: cleanEnv({}),
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
    '',
  );
}

describe('the plugin’s logger (createPluginLogger, in a real process)', () => {
  test('writes the project’s JSON lines to stderr with bindings, fields and errors, and nothing to stdout', async () => {
    const r = await runLoggerProcess(
      'info',
      `const child = log.child({ part: 'x' });
child.info('plain');
child.warn({ n: 1 }, 'with fields');
child.error({ err: new Error('bad thing') }, 'failed');`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const [a, b, c] = parseLogs(r.stderr);
    assert.equal(a?.level, 'info');
    assert.equal(a?.name, 'strfry-plugin');
    assert.equal(a?.part, 'x');
    assert.equal(a?.msg, 'plain');
    assert.equal(b?.level, 'warn');
    assert.equal(b?.n, 1);
    assert.equal(c?.level, 'error');
    assert.ok(c);
    assert.equal((c.err as { message: string }).message, 'bad thing');
  });

  test('redacts secrets in the logged context', async () => {
    const r = await runLoggerProcess(
      'debug',
      `log.child({ part: 'x' }).warn(
  {
    passphrase: 'hunter2',
    config: { identity: { passphrase: 'hunter3' } },
    nsec: 'nsec1xyz',
    request: { authorization: 'Nostr c2VjcmV0LWF1dGg=' },
    id: 'still-here',
  },
  'secrets',
);`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    for (const secret of ['hunter2', 'hunter3', 'nsec1xyz', 'c2VjcmV0LWF1dGg='])
      assert.ok(!r.stderr.includes(secret), `${secret} in ${r.stderr}`);
    const [rec] = parseLogs(r.stderr);
    assert.ok(rec);
    assert.equal(rec.passphrase, '[redacted]');
    assert.deepEqual(rec.config, { identity: { passphrase: '[redacted]' } });
    assert.equal(rec.nsec, '[redacted]');
    assert.deepEqual(rec.request, { authorization: '[redacted]' });
    assert.equal(rec.id, 'still-here');
  });

  test('honours the level', async () => {
    const calls = `log.debug('no'); log.info('no'); log.warn('yes'); log.error('yes');`;
    const warn = await runLoggerProcess('warn', calls);
    assert.deepEqual(
      parseLogs(warn.stderr).map((l) => l.msg),
      ['yes', 'yes'],
    );
    const silent = await runLoggerProcess('silent', `log.error('nothing');`);
    assert.equal(silent.code, 0, silent.stderr);
    assert.deepEqual(parseLogs(silent.stderr), []);
    assert.equal(silent.stdout, '');
  });
});

describe('loadPluginConfig', () => {
  test('reads TIMMY_CONFIG, then the environment on top', () => {
    const files: Record<string, string> = {
      '/etc/timmy.json': JSON.stringify({
        logLevel: 'debug',
        relay: { rejectKinds: [4], acceptKinds: [1, 4] },
      }),
    };
    const read = (p: string): string => {
      const t = files[p];
      if (t === undefined) throw new Error(`ENOENT: ${p}`);
      return t;
    };
    const config = loadPluginConfig({ TIMMY_CONFIG: '/etc/timmy.json', TIMMY_RELAY_REJECT_KINDS: '5' }, read);
    assert.equal(config.logLevel, 'debug');
    assert.deepEqual(config.relay.acceptKinds, [1, 4]);
    assert.deepEqual(config.relay.rejectKinds, [5]);
    assert.throws(() => loadPluginConfig({ TIMMY_CONFIG: '/missing.json' }, read), /cannot read/);
  });

  test('defaults without TIMMY_CONFIG', () => {
    assert.deepEqual(loadPluginConfig({}), loadConfig().config);
  });
});
