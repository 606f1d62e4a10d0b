import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { openKeyStore } from '../../cli/compose.ts';
import { KEY_WALLET_CUSTOMER, KEY_WALLET_TREASURY } from '../../cli/compose-payments.ts';
import { configSchema } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import { encodeNsec } from '../../identity/nip19.ts';
import { FAST_KEYS, firstJson, type Running, spawnTimmy, tempDataDir } from './harness.ts';

/**
 * The logs of the real `timmy start` (stderr a pipe, as under a supervisor): JSON lines with `--log-format
 * json` (the default off a terminal), readable lines with `pretty`, and never a secret in either.
 */

const children: Running[] = [];
after(() => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
});

/** Starts an instance, waits for its `--json` document, stops it with SIGINT; its stderr and stdout. */
async function startAndStop(
  dataDir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stderr: string; stdout: string }> {
  const run = spawnTimmy(
    ['start', '--json', '--relay-port', '0', '--http-port', '0', '--data-dir', dataDir, ...args],
    { ...FAST_KEYS, ...env },
  );
  children.push(run);
  await firstJson(run);
  run.child.kill('SIGINT');
  assert.equal(await run.exited, 0, run.stderr());
  return { stderr: run.stderr(), stdout: run.stdout() };
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

test('--log-format json: every stderr line is one JSON record with time, level, msg and module', async () => {
  const { stderr, stdout } = await startAndStop(await tempDataDir(), [
    '--log-format',
    'json',
    '--log-level',
    'debug',
  ]);
  const all = lines(stderr);
  assert.ok(all.length > 20, `debug start-up records expected, got ${all.length}`);
  for (const line of all) {
    const r = JSON.parse(line) as Record<string, unknown>;
    for (const key of ['time', 'level', 'msg', 'module'])
      assert.equal(typeof r[key], 'string', `${key} missing in ${line}`);
  }
  assert.ok(!stderr.includes('deriving keys'), 'no progress line among JSON records');
  assert.equal(typeof JSON.parse(stdout), 'object', 'stdout stays one JSON document');
});

test('a first start logs one line before the banner, and --log-format pretty writes no JSON', async () => {
  const { stderr, stdout } = await startAndStop(await tempDataDir(), ['--log-format', 'pretty']);
  const all = lines(stderr);
  assert.ok(all.length > 0);
  for (const line of all) assert.ok(!line.startsWith('{'), `a raw JSON line: ${line}`);
  assert.match(stderr, /^\d\d:\d\d:\d\d WARN {2}timmy: generated a random passphrase/m);
  assert.match(stderr, /^\d\d:\d\d:\d\d INFO {2}timmy: instance started relay=ws:/m);
  assert.match(stderr, /^deriving keys 1\/\d+ \(timmy\)…$/m, 'progress as plain lines off a terminal');
  assert.ok(!stderr.includes('\u001b['), 'no colours off a terminal');
  const records = all.filter((l) => /^\d\d:\d\d:\d\d /.test(l));
  const beforeStart = records.findIndex((l) => l.includes('instance started'));
  assert.equal(beforeStart, 1, `routine start-up records are debug:\n${records.join('\n')}`);
  assert.equal(typeof JSON.parse(stdout), 'object');
});

test('--log-format refuses an unknown format', async () => {
  const run = spawnTimmy(['start', '--log-format', 'xml', '--data-dir', await tempDataDir()]);
  assert.equal(await run.exited, 2);
  assert.match(run.stderr(), /--log-format.*pretty or json/);
});

test('no secret reaches a log line, JSON or pretty: a key imported from an nsec, NWC strings, the passphrase', async () => {
  const dataDir = await tempDataDir();
  const passphrase = `pass-${randomBytes(12).toString('hex')}`;
  const nwcSecret = randomBytes(32).toString('hex');
  const nwc = `nostr+walletconnect://${randomBytes(32).toString('hex')}?relay=ws%3A%2F%2F127.0.0.1%3A9&secret=${nwcSecret}`;
  const config = configSchema.parse({
    identity: { passphrase, scryptLogN: Number(FAST_KEYS.TIMMY_IDENTITY_SCRYPT_LOG_N) },
  });
  const keys = await openKeyStore(config, dataDir, silentLogger);
  const secretKey = randomBytes(32);
  const nsec = encodeNsec(secretKey);
  await keys.import('timmy', nsec);
  const env = {
    TIMMY_IDENTITY_PASSPHRASE: passphrase,
    TIMMY_PAYMENTS_SWEEP_NWC_URL: nwc,
    TIMMY_PAYMENTS_NWC_URL: nwc,
  };
  const json = await startAndStop(dataDir, ['--log-format', 'json', '--log-level', 'debug'], env);
  const pretty = await startAndStop(dataDir, ['--log-format', 'pretty', '--log-level', 'debug'], env);
  // The embedded wallet's connection secrets (the desk's treasury and the demo customer) are secrets too.
  const walletSecrets = [
    await keys.secretHex(KEY_WALLET_TREASURY),
    await keys.secretHex(KEY_WALLET_CUSTOMER),
  ];
  for (const [format, out] of [
    ['json', json],
    ['pretty', pretty],
  ] as const) {
    assert.match(out.stderr, /a secret was given through an environment variable/, format);
    const secrets: [string, string][] = [
      ['nsec', nsec],
      ['nsec hex', secretKey.toString('hex')],
      ['NWC secret', nwcSecret],
      ['passphrase', passphrase],
      ['treasury wallet secret', walletSecrets[0] ?? ''],
      ['customer secret', walletSecrets[1] ?? ''],
    ];
    for (const [what, secret] of secrets)
      for (const stream of ['stderr', 'stdout'] as const)
        assert.ok(!out[stream].includes(secret), `${what} in the ${format} ${stream}`);
  }
});
