import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configFields, envName, loadConfig, redactConfig, withPeers } from './config.ts';
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

const HEX = 'ab'.repeat(32);
const NPUB = 'npub1sg6plzptd64u62a878hep2kev88swjh3tw00gjsfl8f237lmu63q0uf63m';

test('federation and reputation: defaults, lists from the environment, and their checks', () => {
  const { config } = loadConfig();
  assert.deepEqual(config.federation, {
    peers: [],
    trustedDesks: [],
    minScore: 0,
    heartbeatSeconds: 300,
    maxHops: 3,
    forward: true,
  });
  assert.deepEqual(config.reputation, {
    labels: true,
    halfLifeDays: 90,
    damping: 0.85,
    minScore: 0,
    seeds: [],
    assertionsIntervalSeconds: 3600,
    relayMinScore: 0,
  });
  const fromEnv = loadConfig({
    env: {
      TIMMY_FEDERATION_PEERS: 'ws://127.0.0.1:7001, wss://relay.example.com',
      TIMMY_FEDERATION_TRUSTED_DESKS: `${HEX},${NPUB}`,
      TIMMY_FEDERATION_FORWARD: 'false',
      TIMMY_REPUTATION_SEEDS: NPUB,
      TIMMY_REPUTATION_MIN_SCORE: '40',
    },
  }).config;
  assert.deepEqual(fromEnv.federation.peers, ['ws://127.0.0.1:7001', 'wss://relay.example.com']);
  assert.deepEqual(fromEnv.federation.trustedDesks, [HEX, NPUB]);
  assert.equal(fromEnv.federation.forward, false);
  assert.deepEqual(fromEnv.reputation.seeds, [NPUB]);
  assert.equal(fromEnv.reputation.minScore, 40);
  const bad: [Parameters<typeof loadConfig>[0], RegExp][] = [
    [{ env: { TIMMY_FEDERATION_PEERS: 'http://x' } }, /federation\.peers\.0.*ws:\/\//],
    [{ env: { TIMMY_FEDERATION_TRUSTED_DESKS: 'abc' } }, /federation\.trustedDesks\.0.*npub/],
    [{ env: { TIMMY_FEDERATION_MIN_SCORE: '101' } }, /federation\.minScore/],
    [{ env: { TIMMY_FEDERATION_MAX_HOPS: '0' } }, /federation\.maxHops/],
    [{ env: { TIMMY_REPUTATION_DAMPING: '1' } }, /reputation\.damping/],
    [{ env: { TIMMY_REPUTATION_SEEDS: 'nsec1xyz' } }, /reputation\.seeds\.0/],
  ];
  for (const [options, re] of bad)
    assert.throws(
      () => loadConfig(options),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
      JSON.stringify(options),
    );
});

test('--peer flags add to federation.peers, once each, and are checked alike', () => {
  const { config } = loadConfig({ env: { TIMMY_FEDERATION_PEERS: 'ws://a.example' } });
  const more = withPeers(config, ['ws://b.example', 'ws://a.example', ' wss://c.example ']);
  assert.deepEqual(more.federation.peers, ['ws://a.example', 'ws://b.example', 'wss://c.example']);
  assert.deepEqual(config.federation.peers, ['ws://a.example'], 'the original is untouched');
  assert.throws(
    () => withPeers(config, ['https://nope']),
    (e: unknown) => e instanceof ConfigError && /--peer.*https:\/\/nope.*ws:\/\//.test(e.message),
  );
});

test('dashboard: defaults, owners from the environment, and their checks', () => {
  assert.deepEqual(loadConfig().config.dashboard, {
    owners: [],
    sessionHours: 12,
    maxSessions: 1000,
    loginsPerMinute: 10,
  });
  const { config } = loadConfig({
    env: { TIMMY_DASHBOARD_OWNERS: `${HEX}, ${NPUB}`, TIMMY_DASHBOARD_SESSION_HOURS: '1.5' },
  });
  assert.deepEqual(config.dashboard.owners, [HEX, NPUB]);
  assert.equal(config.dashboard.sessionHours, 1.5);
  for (const [env, re] of [
    [{ TIMMY_DASHBOARD_OWNERS: 'alice' }, /dashboard\.owners\.0/],
    [{ TIMMY_DASHBOARD_SESSION_HOURS: '0' }, /dashboard\.sessionHours/],
    [{ TIMMY_DASHBOARD_MAX_SESSIONS: '0' }, /dashboard\.maxSessions/],
  ] as const)
    assert.throws(
      () => loadConfig({ env }),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
      JSON.stringify(env),
    );
});
