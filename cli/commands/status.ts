import type { Command } from 'commander';
import { errorMessage } from '../../core/errors.ts';
import { makeContext } from '../context.ts';
import { readInstanceRecord } from '../instance-record.ts';
import { type CliIo, printJson, println } from '../io.ts';

interface Probe {
  ok: boolean;
  detail: string;
}

async function probeJson(
  url: string,
  headers: Record<string, string> = {},
  /** Statuses whose JSON body is an answer too (503 from /readyz). */
  alsoOk: readonly number[] = [],
): Promise<{ ok: boolean; body?: unknown; detail: string }> {
  // A referenced timer (AbortSignal.timeout's is not): a server that accepts and never answers must end
  // in "timed out", not in an event loop with nothing left to wait on.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error('no answer within 3 s')), 3000);
  try {
    const res = await fetch(url, { headers, signal: abort.signal });
    if (res.ok) return { ok: true, body: await res.json(), detail: 'ok' };
    if (alsoOk.includes(res.status))
      return { ok: false, body: await res.json(), detail: `HTTP ${res.status}` };
    return { ok: false, detail: `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, detail: errorMessage(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** NIP-11 over the relay's own address (ws → http). */
async function probeRelay(relayUrl: string): Promise<Probe & { name?: string }> {
  const httpUrl = relayUrl.replace(/^ws/, 'http');
  const r = await probeJson(httpUrl, { Accept: 'application/nostr+json' });
  const name = (r.body as { name?: unknown } | undefined)?.name;
  return {
    ok: r.ok,
    detail: r.ok ? `ok${typeof name === 'string' ? ` (${name})` : ''}` : r.detail,
    name: typeof name === 'string' ? name : undefined,
  };
}

/** What `/readyz` answers (web/ops-routes.ts). */
interface Readiness {
  ready: boolean;
  checks: { name: string; ok: boolean; detail?: string }[];
}

/** One model provider as `/api/status` shows it (llm/router.ts ProviderStats, the fields read here). */
interface ProviderLine {
  provider: string;
  state: string;
  calls: number;
  failures: number;
  p50Ms?: number;
}

function readinessOf(body: unknown): Readiness | undefined {
  const b = body as Partial<Readiness> | undefined;
  if (!b || typeof b.ready !== 'boolean' || !Array.isArray(b.checks)) return undefined;
  return { ready: b.ready, checks: b.checks };
}

function providersOf(body: unknown): ProviderLine[] {
  const llm = (body as { llm?: unknown } | undefined)?.llm;
  if (!Array.isArray(llm)) return [];
  return llm.map((x) => {
    const p = x as {
      provider?: unknown;
      calls?: unknown;
      failures?: unknown;
      breaker?: { state?: unknown };
      latency?: { p50Ms?: unknown };
    };
    const p50 = p.latency?.p50Ms;
    return {
      provider: String(p.provider ?? '?'),
      state: String(p.breaker?.state ?? 'unknown'),
      calls: Number(p.calls ?? 0),
      failures: Number(p.failures ?? 0),
      ...(typeof p50 === 'number' ? { p50Ms: p50 } : {}),
    };
  });
}

export function registerStatus(program: Command, io: CliIo, result: { code: number }): void {
  program
    .command('status')
    .description(
      'is an instance running with this data directory? where, since when, are its relay and HTTP server answering',
    )
    .option('--json', 'print the status as JSON')
    .action(async (opts: { json?: boolean }) => {
      const ctx = await makeContext(io, program.opts());
      const r = await readInstanceRecord(ctx.dataDir);
      if (r.state !== 'running') {
        let why: string;
        if (r.state === 'none') why = `no instance is running with data directory ${ctx.dataDir}`;
        else if (r.state === 'stale') {
          why = `the instance recorded in ${ctx.dataDir} (pid ${r.record.pid}) is no longer running; it was not stopped cleanly`;
        } else why = r.reason;
        if (opts.json)
          printJson(io.stdout, { running: false, state: r.state, dataDir: ctx.dataDir, reason: why });
        else println(io.stdout, why);
        result.code = 3;
        return;
      }
      const rec = r.record;
      const [relay, http, ready, view] = await Promise.all([
        probeRelay(rec.localRelayUrl),
        rec.localHttpUrl ? probeJson(`${rec.localHttpUrl}/healthz`) : Promise.resolve(undefined),
        rec.localHttpUrl ? probeJson(`${rec.localHttpUrl}/readyz`, {}, [503]) : Promise.resolve(undefined),
        rec.localHttpUrl ? probeJson(`${rec.localHttpUrl}/api/status`) : Promise.resolve(undefined),
      ]);
      const readiness = readinessOf(ready?.body);
      const providers = providersOf(view?.body);
      const status = {
        running: true,
        state: 'running',
        dataDir: ctx.dataDir,
        pid: rec.pid,
        mode: rec.mode,
        version: rec.version,
        startedAt: new Date(rec.startedAt).toISOString(),
        uptimeSeconds: Math.round((Date.now() - rec.startedAt) / 1000),
        relay: { url: rec.relayUrl, embedded: rec.embeddedRelay, ok: relay.ok, detail: relay.detail },
        http: http ? { url: rec.httpUrl, ok: http.ok, detail: http.detail } : null,
        agents: rec.agents,
        /** `/readyz`: relay, desk, agents alive, wallet (null when the HTTP server did not answer it). */
        readiness: readiness ?? null,
        providers,
      };
      if (opts.json) printJson(io.stdout, status);
      else {
        println(
          io.stdout,
          `Timmy Time ${rec.version}: running (pid ${rec.pid}, up ${formatDuration(status.uptimeSeconds)}, ${rec.mode})`,
        );
        println(io.stdout, `  relay      ${rec.relayUrl}  ${relay.detail}`);
        if (http) println(io.stdout, `  dashboard  ${rec.httpUrl}  ${http.detail}`);
        if (rec.agents.length) println(io.stdout, `  agents     ${rec.agents.map((a) => a.name).join(', ')}`);
        if (readiness) {
          println(io.stdout, `  ready      ${readiness.ready ? 'yes' : 'no'}`);
          for (const c of readiness.checks)
            println(
              io.stdout,
              `    ${c.name.padEnd(8)} ${c.ok ? 'ok' : 'NOT READY'}${c.detail ? `  ${c.detail}` : ''}`,
            );
        } else if (ready) println(io.stdout, `  ready      unknown (/readyz: ${ready.detail})`);
        if (providers.length === 0) println(io.stdout, '  models     none configured');
        for (const p of providers)
          println(
            io.stdout,
            `  model      ${p.provider}: circuit ${p.state}, ${p.calls} calls, ${p.failures} failed${
              p.p50Ms !== undefined ? `, p50 ${Math.round(p.p50Ms)} ms` : ''
            }`,
          );
      }
      // Not ready yet (agents still starting) is shown, not an error: the exit code is about answering.
      result.code = relay.ok && (http?.ok ?? true) ? 0 : 1;
    });
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  const h = Math.floor(seconds / 3600);
  if (h < 48) return `${h}h ${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
