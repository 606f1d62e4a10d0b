import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDeskDatabase } from '../../agents/desk/desk-db.ts';
import { openKeyStore } from '../../cli/compose.ts';
import { KEY_WALLET_CUSTOMER, KEY_WALLET_SERVICE } from '../../cli/compose-payments.ts';
import { configSchema } from '../../core/config.ts';
import { dataFile } from '../../core/data-dir.ts';
import { silentLogger } from '../../core/logger.ts';
import { JobLog } from '../../dvm/job-log.ts';
import { NwcWallet } from '../../payments/nwc-wallet.ts';
import type { Treasury } from '../../payments/treasury.ts';

export const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/timmy.js');

/** A cheaper NIP-49 scrypt cost for tests that are not about key encryption (the default, 16, takes ~0.7 s a key). */
export const FAST_KEYS = { TIMMY_IDENTITY_SCRYPT_LOG_N: '10' };

export async function tempDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'timmy-cli-'));
}

export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Spawns `timmy <args>` with a clean environment (no TIMMY_ variables leak in from the caller). */
export function spawnTimmy(args: string[], env: Record<string, string> = {}): Running {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('TIMMY_')) base[k] = v;
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    err += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs `timmy <args>` to completion. */
export async function runTimmy(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = spawnTimmy(args, env);
  const code = await r.exited;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

/** Resolves with the first complete JSON document printed on stdout (a `--json` command's output). */
export async function firstJson(r: Running, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const start = Date.now();
  for (;;) {
    const text = r.stdout().trim();
    if (text.endsWith('}')) {
      try {
        return JSON.parse(text) as Record<string, unknown>;
      } catch {
        // not complete yet
      }
    }
    if (r.child.exitCode !== null) throw new Error(`timmy exited ${r.child.exitCode}: ${r.stderr()}`);
    if (Date.now() - start > timeoutMs)
      throw new Error(`no JSON on stdout after ${timeoutMs} ms; stderr: ${r.stderr()}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

export async function runClient(script: string, args: string[]): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += String(d);
  });
  child.stderr.on('data', (d) => {
    err += String(d);
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`${script} exited ${code}: ${err}`);
  return JSON.parse(out.trim()) as Record<string, unknown>;
}

/** `timmy start --json` in a child process; resolves with its relay URL once it printed its JSON line. */
export async function startTimmy(env: Record<string, string>): Promise<{ run: Running; relayUrl: string }> {
  const run = spawnTimmy(['start', '--json'], env);
  const info = await firstJson(run);
  return { run, relayUrl: String(info.relayUrl) };
}

/** A job's state in the instance's job log (read-only, while the instance may be running). */
export function jobState(dataDir: string, id: string): string | undefined {
  const log = JobLog.open({ path: dataFile(dataDir, 'jobs'), readonly: true });
  try {
    return log.get(id)?.state;
  } finally {
    log.close();
  }
}

/** The demo customer's NWC wallet of a `timmy start` data directory (its key from the key store). */
export async function demoCustomerWallet(dataDir: string, relayUrl: string): Promise<NwcWallet> {
  const config = configSchema.parse({
    identity: { scryptLogN: Number(FAST_KEYS.TIMMY_IDENTITY_SCRYPT_LOG_N) },
  });
  const keys = await openKeyStore(config, dataDir, silentLogger);
  const service = await keys.info(KEY_WALLET_SERVICE);
  const secret = await keys.secretHex(KEY_WALLET_CUSTOMER);
  const url = `nostr+walletconnect://${service.pubkey}?relay=${encodeURIComponent(relayUrl)}&secret=${secret}`;
  return new NwcWallet({ url, logger: silentLogger, timeoutMs: 10_000, payTimeoutMs: 2_000 });
}

/** The treasury of a `timmy start` data directory (in the desk's database, `jobs.sqlite`); close it after use. */
export function openTreasury(dataDir: string): { treasury: Treasury; close(): void } {
  const db = openDeskDatabase({ path: dataFile(dataDir, 'jobs'), logger: silentLogger });
  return { treasury: db.treasury, close: db.close };
}

/** Reads the treasury of a data directory and closes it again. */
export function withTreasury<T>(dataDir: string, read: (t: Treasury) => T): T {
  const db = openTreasury(dataDir);
  try {
    return read(db.treasury);
  } finally {
    db.close();
  }
}
