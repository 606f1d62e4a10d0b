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
): Promise<{ ok: boolean; body?: unknown; detail: string }> {
  // A referenced timer (AbortSignal.timeout's is not): a server that accepts and never answers must end
  // in "timed out", not in an event loop with nothing left to wait on.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error('no answer within 3 s')), 3000);
  try {
    const res = await fetch(url, { headers, signal: abort.signal });
    if (!res.ok) return { ok: false, detail: `HTTP ${res.status}` };
    return { ok: true, body: await res.json(), detail: 'ok' };
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
      const [relay, http] = await Promise.all([
        probeRelay(rec.localRelayUrl),
        rec.localHttpUrl ? probeJson(`${rec.localHttpUrl}/healthz`) : Promise.resolve(undefined),
      ]);
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
      }
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
