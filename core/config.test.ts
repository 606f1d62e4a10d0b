import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configFields, envName, loadConfig, redactConfig } from './config.ts';
import { ConfigError } from './errors.ts';

test('defaults need no configuration at all', () => {
  const { config, secretsFromEnv } = loadConfig();
  assert.equal(config.dataDir, './.timmy');
  assert.equal(config.relay.port, 7777);
  assert.equal(config.http.port, 8080);
  assert.equal(config.relay.url, '');
  assert.equal(config.identity.scryptLogN, 16);
  assert.deepEqual(secretsFromEnv, []);
});

test('environment names follow the field path', () => {
  assert.equal(envName('relay.limits.maxMessageBytes'), 'TIMMY_RELAY_LIMITS_MAX_MESSAGE_BYTES');
  assert.equal(envName('dataDir'), 'TIMMY_DATA_DIR');
  assert.equal(envName('http.port'), 'TIMMY_HTTP_PORT');
  const names = configFields().map((f) => f.env);
  assert.equal(new Set(names).size, names.length, 'no two fields share a variable');
});

test('file < environment < overrides, with types coerced from strings', () => {
  const { config } = loadConfig({
    fileContent: { relay: { port: 1000, name: 'from file', limits: { maxFilters: 3 } } },
    env: { TIMMY_RELAY_PORT: '2000', TIMMY_RELAY_REJECT_KINDS: '4, 1059', TIMMY_LOG_LEVEL: 'debug' },
    overrides: { 'relay.port': 3000 },
  });
  assert.equal(config.relay.port, 3000);
  assert.equal(config.relay.name, 'from file');
  assert.equal(config.relay.limits.maxFilters, 3);
  assert.equal(config.relay.limits.maxLimit, 1000, 'untouched siblings keep their defaults');
  assert.deepEqual(config.relay.rejectKinds, [4, 1059]);
  assert.equal(config.logLevel, 'debug');
});

test('an empty environment variable counts as unset', () => {
  assert.equal(loadConfig({ env: { TIMMY_RELAY_PORT: '' } }).config.relay.port, 7777);
});

test('invalid values name the field and the variable', () => {
  const cases: [Parameters<typeof loadConfig>[0], RegExp][] = [
    [{ env: { TIMMY_RELAY_PORT: '99999' } }, /relay\.port.*TIMMY_RELAY_PORT/],
    [{ env: { TIMMY_RELAY_PORT: 'abc' } }, /relay\.port.*not a number/],
    [{ env: { TIMMY_LOG_LEVEL: 'loud' } }, /logLevel/],
    [{ env: { TIMMY_RELAY_REJECT_KINDS: '4,x' } }, /relay\.rejectKinds.*comma-separated/],
    [{ env: { TIMMY_RELAY_URL: 'http://x' } }, /relay\.url.*ws:\/\//],
    [{ env: { TIMMY_IDENTITY_SCRYPT_LOG_N: '4' } }, /identity\.scryptLogN/],
    [{ fileContent: { relay: { limits: { maxLimit: 'many' } } } }, /relay\.limits\.maxLimit/],
    [{ fileContent: { relay: { bogus: 1 } } }, /relay\.bogus: unknown field/],
    [{ fileContent: { nope: 1 } }, /nope: unknown field/],
    [{ fileContent: [1, 2], file: 'x.json' }, /x\.json.*JSON object/],
  ];
  for (const [options, re] of cases) {
    assert.throws(
      () => loadConfig(options),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
      JSON.stringify(options),
    );
  }
});

test('secrets from the environment are reported (for the start-up warning) and redacted', () => {
  const loaded = loadConfig({ env: { TIMMY_IDENTITY_PASSPHRASE: 's3cret' } });
  assert.deepEqual(loaded.secretsFromEnv, ['identity.passphrase']);
  assert.equal(loaded.config.identity.passphrase, 's3cret');
  const red = redactConfig(loaded.config);
  assert.equal(red.identity.passphrase, '[redacted]');
  assert.equal(loaded.config.identity.passphrase, 's3cret', 'the original is untouched');
  assert.deepEqual(loadConfig({ fileContent: { identity: { passphrase: 'x' } } }).secretsFromEnv, []);
});
