import { z } from 'zod';
import { ConfigError } from './errors.ts';

/**
 * The one typed configuration of a Timmy instance. Every field has a default, so `npm start` needs no
 * configuration at all; an empty string means "not set" for optional strings. Sources, later ones win:
 * defaults, the JSON config file, environment variables (`TIMMY_` + the field path in SCREAMING_SNAKE_CASE,
 * e.g. relay.limits.maxMessageBytes is TIMMY_RELAY_LIMITS_MAX_MESSAGE_BYTES), then command-line overrides.
 * docs/CONFIGURATION.md documents every field; a test keeps it so.
 */
const port = z.number().int().min(0).max(65535);
const count = (min: number) => z.number().int().min(min);
const kinds = z.array(z.number().int().min(0).max(65535));
const wsUrl = z
  .string()
  .refine((s) => s === '' || /^wss?:\/\/[^\s]+$/.test(s), 'must be a ws:// or wss:// URL (or empty)');
const httpUrl = z
  .string()
  .refine((s) => s === '' || /^https?:\/\/[^\s]+$/.test(s), 'must be an http:// or https:// URL (or empty)');

const nwcUrl = z
  .string()
  .refine(
    (s) => s === '' || /^nostr\+walletconnect:\/\/[0-9a-f]{64}\?\S+$/.test(s),
    'must be a nostr+walletconnect://<64 hex wallet pubkey>?relay=…&secret=… URL (or empty)',
  );
/** "PATH=MSATS": an HTTP path (exact, or ending in "*" for a prefix) and its price in millisatoshis. */
/** A public key as a person writes it in the configuration: 64 hex characters or an npub (checked where used). */
const pubkeyText = z
  .string()
  .trim()
  .refine(
    (s) => /^[0-9a-fA-F]{64}$/.test(s) || /^npub1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/.test(s),
    'must be a public key: 64 hex characters or an npub',
  );
/** A peer's relay: a ws:// or wss:// URL (never empty). */
const peerUrl = z
  .string()
  .trim()
  .refine((s) => /^wss?:\/\/[^\s/?#]+\S*$/.test(s), 'must be a ws:// or wss:// relay URL');
const l402Route = z
  .string()
  .refine((s) => /^\/\S*=[1-9][0-9]*$/.test(s), 'must be "PATH=MSATS", e.g. "/api/status=1000"');

export const configSchema = z.strictObject({
  dataDir: z.string().min(1).default('./.timmy'),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  logFormat: z.enum(['auto', 'pretty', 'json']).default('auto'),
  relay: z
    .strictObject({
      url: wsUrl.default(''),
      host: z.string().min(1).default('127.0.0.1'),
      port: port.default(7777),
      publicUrl: wsUrl.default(''),
      name: z.string().default('Timmy Time relay'),
      description: z.string().default('The embedded relay of a Timmy Time agent network'),
      contact: z.string().default(''),
      auth: z.enum(['none', 'write', 'all']).default('none'),
      restrictedReadKinds: kinds.default([4, 1059]),
      acceptKinds: kinds.default([]),
      rejectKinds: kinds.default([]),
      writerThread: z.enum(['auto', 'on', 'off']).default('auto'),
      limits: z
        .strictObject({
          maxMessageBytes: count(1024).default(262144),
          maxSubscriptions: count(1).default(32),
          maxFilters: count(1).default(16),
          maxLimit: count(1).default(1000),
          maxEventTags: count(1).default(2500),
          maxContentBytes: count(1).default(131072),
          eventsPerSecond: count(1).default(200),
          eventsBurst: count(1).default(400),
          createdAtFutureSeconds: count(0).default(900),
          createdAtPastSeconds: count(0).default(0),
          maxConnections: count(1).default(1024),
          maxConnectionsPerIp: count(0).default(64),
          maxFilterValues: count(1).default(2500),
          maxConnectionFilterValues: count(1).default(10_000),
          maxBufferedBytes: count(65_536).default(8_388_608),
        })
        .prefault({}),
    })
    .prefault({}),
  http: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: port.default(8080),
      publicUrl: httpUrl.default(''),
      limits: z
        .strictObject({
          maxConnectionsPerAddress: count(1).default(64),
          maxConnections: count(1).default(1024),
          headersTimeoutMs: count(100).default(10_000),
          idleTimeoutMs: count(100).default(30_000),
        })
        .prefault({}),
    })
    .prefault({}),
  identity: z
    .strictObject({
      domain: z.string().min(1).default('localhost'),
      passphrase: z.string().default(''),
      passphraseFile: z.string().default(''),
      scryptLogN: z.number().int().min(8).max(22).default(16),
    })
    .prefault({}),
  agents: z
    .strictObject({
      personaFile: z.string().default(''),
      /** Agents of the persona file that run in another process (`timmy agents run`), not in `timmy start`. */
      elsewhere: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  dvm: z
    .strictObject({
      heartbeatIntervalMs: count(100).default(10_000),
      agentTimeoutMs: count(200).default(35_000),
      maxAttempts: count(1).default(3),
      requestLookbackSeconds: count(0).default(3600),
      maxInputBytes: count(1).default(65_536),
      inputTimeoutMs: count(100).default(30_000),
      jobTimeoutMs: count(1000).default(600_000),
      approvalKinds: kinds.default([]),
      approvalAgents: z.array(z.string().min(1)).default([]),
      urlInputs: z.strictObject({ allow: z.array(z.string().trim().min(1)).default([]) }).prefault({}),
    })
    .prefault({}),
  auction: z
    .strictObject({
      enabled: z.boolean().default(true),
      bidWindowMs: count(50).default(1000),
      revealGraceMs: count(0).default(500),
    })
    .prefault({}),
  llm: z
    .strictObject({
      order: z.array(z.enum(['llamaCpp', 'ollama', 'openai'])).default(['llamaCpp', 'ollama', 'openai']),
      maxTokens: count(1).default(512),
      temperature: z.number().min(0).max(2).default(0.7),
      breaker: z
        .strictObject({
          failureThreshold: count(1).default(3),
          cooldownMs: count(0).default(30_000),
          halfOpenSuccesses: count(1).default(1),
        })
        .prefault({}),
      ollama: z
        .strictObject({
          url: httpUrl.default(''),
          model: z.string().default('llama3.2'),
          timeoutMs: count(100).default(120_000),
        })
        .prefault({}),
      openai: z
        .strictObject({
          url: httpUrl.default(''),
          model: z.string().default(''),
          apiKey: z.string().default(''),
          timeoutMs: count(100).default(120_000),
        })
        .prefault({}),
      llamaCpp: z
        .strictObject({
          modelPath: z.string().default(''),
          contextSize: count(128).default(2048),
          threads: count(0).default(0),
          timeoutMs: count(100).default(300_000),
        })
        .prefault({}),
    })
    .prefault({}),
  voice: z
    .strictObject({
      stt: z.enum(['pocketsphinx', 'sherpa']).default('pocketsphinx'),
      sttModelDir: z.string().default(''),
      tts: z.enum(['flite', 'sherpa']).default('flite'),
      ttsModelDir: z.string().default(''),
      voice: z.string().min(1).default('slt'),
      speaker: count(0).default(0),
      vad: z.enum(['silero', 'none']).default('silero'),
      threads: count(1).default(2),
    })
    .prefault({}),
  payments: z
    .strictObject({
      enabled: z.boolean().default(true),
      wallet: z.enum(['embedded', 'nwc']).default('embedded'),
      nwcUrl: nwcUrl.default(''),
      feePct: z.number().min(0).max(100).default(10),
      feeMsats: count(0).default(0),
      minPriceMsats: count(0).default(1000),
      invoiceExpirySeconds: count(10).default(600),
      invoicePool: count(0).max(64).default(4),
      trustedCustomers: z.array(z.string().min(1)).default([]),
      walletTimeoutMs: count(100).default(30_000),
      walletRetryMs: count(10).default(2000),
      unreachableGraceMs: count(0).default(120_000),
      walletLookups: z
        .strictObject({
          perRound: count(1).default(10),
          maxDelayMs: count(100).default(300_000),
        })
        .prefault({}),
      maxUnpaidInvoicesPerCustomer: count(1).default(10),
      maxUnpaidInvoices: count(1).default(200),
      sweep: z
        .strictObject({
          thresholdMsats: count(0).default(0),
          keepMsats: count(0).default(0),
          nwcUrl: nwcUrl.default(''),
        })
        .prefault({}),
      withdrawals: z
        .strictObject({
          autoApproveMsats: count(0).default(0),
        })
        .prefault({}),
      embedded: z
        .strictObject({
          customerBalanceMsats: count(0).default(1_000_000),
          holdTimeoutSeconds: count(10).default(86_400),
          requestWindowSeconds: count(60).default(3600),
        })
        .prefault({}),
      l402: z
        .strictObject({
          routes: z.array(l402Route).default([]),
          tokenTtlSeconds: count(10).default(3600),
          challengesPerMinute: count(0).default(10),
          maxOpenChallenges: count(1).default(100),
        })
        .prefault({}),
    })
    .prefault({}),
  federation: z
    .strictObject({
      peers: z.array(peerUrl).max(64).default([]),
      trustedDesks: z.array(pubkeyText).default([]),
      minScore: z.number().min(0).max(100).default(0),
      heartbeatSeconds: count(10).default(300),
      maxHops: count(1).max(16).default(3),
      forward: z.boolean().default(true),
    })
    .prefault({}),
  reputation: z
    .strictObject({
      labels: z.boolean().default(true),
      halfLifeDays: z.number().positive().default(90),
      damping: z.number().gt(0).lt(1).default(0.85),
      minScore: z.number().min(0).max(100).default(0),
      seeds: z.array(pubkeyText).default([]),
      assertionsIntervalSeconds: count(0).default(3600),
      relayMinScore: z.number().min(0).max(100).default(0),
    })
    .prefault({}),
  dashboard: z
    .strictObject({
      owners: z.array(pubkeyText).max(64).default([]),
      sessionHours: z.number().positive().max(720).default(12),
      maxSessions: count(1).default(1000),
      loginsPerMinute: count(1).default(10),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      enabled: z.boolean().default(true),
      access: z.enum(['loopback', 'owners', 'public']).default('loopback'),
    })
    .prefault({}),
  tracing: z
    .strictObject({
      enabled: z.boolean().default(false),
      otlpEndpoint: httpUrl.default('http://127.0.0.1:4318/v1/traces'),
      serviceName: z.string().min(1).default('timmy'),
      sampleRatio: z.number().min(0).max(1).default(1),
    })
    .prefault({}),
  memory: z
    .strictObject({
      enabled: z.boolean().default(true),
      embedder: z.enum(['use-lite', 'ollama', 'openai']).default('use-lite'),
      url: httpUrl.default(''),
      model: z.string().default(''),
      apiKey: z.string().default(''),
      dimension: count(0).default(0),
      recallK: count(0).max(50).default(5),
      budgetPerAgent: count(1).default(10_000),
      halfLifeHours: z.number().positive().default(168),
      rememberJobs: z.boolean().default(true),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;

/** Fields that hold secrets: never logged, and a warning at start when they come from the environment. */
export const SECRET_FIELDS: readonly string[] = [
  'identity.passphrase',
  'llm.openai.apiKey',
  'memory.apiKey',
  'payments.nwcUrl',
  'payments.sweep.nwcUrl',
];

/** List fields whose items are strings (the others are lists of integers), for environment parsing. */
const STRING_LIST_FIELDS: readonly string[] = [
  'agents.elsewhere',
  'llm.order',
  'dvm.approvalAgents',
  'dvm.urlInputs.allow',
  'payments.trustedCustomers',
  'payments.l402.routes',
  'federation.peers',
  'federation.trustedDesks',
  'reputation.seeds',
  'dashboard.owners',
];

export type Leaf = string | number | boolean | readonly number[] | readonly string[];

/** Every configuration field as a dotted path, with its default and its environment variable. */
export function configFields(): { path: string; env: string; defaultValue: Leaf }[] {
  const out: { path: string; env: string; defaultValue: Leaf }[] = [];
  const walk = (obj: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(obj)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, path);
      else out.push({ path, env: envName(path), defaultValue: v as Leaf });
    }
  };
  walk(configSchema.parse({}) as unknown as Record<string, unknown>, '');
  return out;
}

export function envName(path: string): string {
  return `TIMMY_${path
    .split('.')
    .map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
    .join('_')}`;
}

export interface LoadedConfig {
  config: Config;
  /** Dotted paths of secret fields that were set through environment variables. */
  secretsFromEnv: string[];
  /** Path of the config file that was read, if any. */
  file: string | undefined;
}

export interface LoadOptions {
  env?: Record<string, string | undefined>;
  /** Parsed content of the config file, if one was read. */
  fileContent?: unknown;
  file?: string;
  /** Highest-priority overrides, as dotted paths (from command-line flags). */
  overrides?: Record<string, Leaf>;
}

/** Merges defaults, file, environment and overrides, and validates. Throws ConfigError naming the field. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? {};
  const raw: Record<string, unknown> = {};
  if (options.fileContent !== undefined) {
    if (
      options.fileContent === null ||
      typeof options.fileContent !== 'object' ||
      Array.isArray(options.fileContent)
    ) {
      throw new ConfigError(options.file ?? 'config file', 'must hold a JSON object');
    }
    mergeInto(raw, options.fileContent as Record<string, unknown>);
  }
  const secretsFromEnv: string[] = [];
  for (const field of configFields()) {
    const value = env[field.env];
    if (value === undefined || value === '') continue;
    setPath(raw, field.path, fromEnv(field.path, field.env, value, field.defaultValue));
    if (SECRET_FIELDS.includes(field.path)) secretsFromEnv.push(field.path);
  }
  for (const [path, value] of Object.entries(options.overrides ?? {})) setPath(raw, path, value);

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') ?? '';
    const unknownKeys = issue && 'keys' in issue ? (issue.keys as string[]) : [];
    if (issue?.code === 'unrecognized_keys') {
      const where = path ? `${path}.` : '';
      throw new ConfigError(`${where}${unknownKeys.join(', ')}`, 'unknown field');
    }
    const hint =
      path && !path.includes('.') && typeof raw[path] === 'object' ? '' : ` (env ${envName(path)})`;
    throw new ConfigError(path || '(root)', `${issue?.message ?? 'invalid'}${hint}`);
  }
  return { config: parsed.data, secretsFromEnv, file: options.file };
}

function fromEnv(path: string, env: string, value: string, def: Leaf): Leaf {
  if (typeof def === 'number') {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new ConfigError(path, `${env}=${JSON.stringify(value)} is not a number`);
    return n;
  }
  if (typeof def === 'boolean') {
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    throw new ConfigError(path, `${env}=${JSON.stringify(value)} is not true or false`);
  }
  if (Array.isArray(def)) {
    const parts = value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (STRING_LIST_FIELDS.includes(path)) return parts;
    const nums = parts.map(Number);
    if (nums.some((n) => !Number.isInteger(n))) {
      throw new ConfigError(
        path,
        `${env}=${JSON.stringify(value)} is not a comma-separated list of integers`,
      );
    }
    return nums;
  }
  return value;
}

function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(source)) {
    const cur = target[k];
    if (
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      cur &&
      typeof cur === 'object' &&
      !Array.isArray(cur)
    ) {
      mergeInto(cur as Record<string, unknown>, v as Record<string, unknown>);
    } else if (v && typeof v === 'object' && !Array.isArray(v)) {
      const copy: Record<string, unknown> = {};
      mergeInto(copy, v as Record<string, unknown>);
      target[k] = copy;
    } else {
      target[k] = v;
    }
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = target;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (next && typeof next === 'object' && !Array.isArray(next)) cur = next as Record<string, unknown>;
    else {
      const fresh: Record<string, unknown> = {};
      cur[p] = fresh;
      cur = fresh;
    }
  }
  cur[parts[parts.length - 1] as string] = value;
}

/**
 * The config with more peer relays (`--peer` flags) after those it names, each checked as `federation.peers`
 * checks its own; repeats are dropped. Throws ConfigError naming `flag`.
 */
export function withPeers(config: Config, urls: readonly string[], flag = '--peer'): Config {
  const added: string[] = [];
  for (const url of urls) {
    const parsed = peerUrl.safeParse(url);
    if (!parsed.success)
      throw new ConfigError(
        flag,
        `${JSON.stringify(url)} ${parsed.error.issues[0]?.message ?? 'is invalid'}`,
      );
    added.push(parsed.data);
  }
  const peers = [...new Set([...config.federation.peers, ...added])];
  return { ...config, federation: { ...config.federation, peers } };
}

/** A copy of the config with secret fields replaced, for logs and `timmy status`. */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config);
  for (const path of SECRET_FIELDS) {
    const parts = path.split('.');
    let cur: Record<string, unknown> = copy as unknown as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) cur = cur[p] as Record<string, unknown>;
    const last = parts[parts.length - 1] as string;
    if (cur[last]) cur[last] = '[redacted]';
  }
  return copy;
}
