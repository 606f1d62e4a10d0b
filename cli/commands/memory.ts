import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { errorMessage } from '../../core/errors.ts';
import { encodeNpub, parsePubkey } from '../../identity/nip19.ts';
import { memoryPath, openMemories } from '../../memory/from-config.ts';
import { exportLines, importLines, MemoryImportError } from '../../memory/jsonl.ts';
import type { Memories } from '../../memory/memories.ts';
import { isMemoryKind, MEMORY_KINDS, type MemoryFilter, type MemoryKind } from '../../memory/types.ts';
import { type Context, makeContext } from '../context.ts';
import { CliError, type CliIo, printJson, println } from '../io.ts';
import { registerMemoryBackup } from './memory-backup.ts';

/**
 * `timmy memory add|search|stats|export|import|prune|forget|backup|restore`: the agents' memory file (`<dataDir>/memory.sqlite`)
 * with the configured embedder (docs/memory.md). A memory file of another model is re-embedded first,
 * with its progress on stderr.
 */
export function registerMemory(program: Command, io: CliIo, result: { code: number }): void {
  const memory = program.command('memory').description("the agents' semantic memory (docs/memory.md)");

  memory
    .command('add')
    .description('remember a text')
    .argument('<text>', 'what to remember')
    .option('--agent <name>', 'whose memory (default timmy)')
    .option('--kind <kind>', 'episodic, semantic (default) or procedural')
    .option('--importance <0-1>', 'how much it matters (default 0.5)')
    .option('--json', 'print JSON')
    .action(
      async (text: string, opts: { agent?: string; kind?: string; importance?: string; json?: boolean }) => {
        await withMemories(io, program, async (m) => {
          const record = await m.remember({
            agent: opts.agent ?? 'timmy',
            kind: parseKind(opts.kind) ?? 'semantic',
            content: text,
            importance: parseImportance(opts.importance),
          });
          if (opts.json) printJson(io.stdout, record);
          else println(io.stdout, `remembered #${record.id} (${record.agent}, ${record.kind})`);
        });
        result.code = 0;
      },
    );

  memory
    .command('search')
    .description('the memories nearest in meaning (with --hybrid: fused with full-text BM25)')
    .argument('<query>', 'what to look for')
    .option('--agent <name>', "only this agent's memories")
    .option('--kind <kind>', 'only episodic, semantic or procedural')
    .option('--since <date>', 'only memories created at or after this ISO date')
    .option('--customer <npub>', "only memories of this customer's jobs (the desk's and the agents')")
    .option('-k, --limit <n>', 'how many (default 10)')
    .option('--hybrid', 'fuse vector and full-text ranks')
    .option('--json', 'print JSON')
    .action(
      async (
        query: string,
        opts: {
          agent?: string;
          kind?: string;
          since?: string;
          customer?: string;
          limit?: string;
          hybrid?: boolean;
          json?: boolean;
        },
      ) => {
        await withMemories(io, program, async (m) => {
          await m.ready;
          const t0 = performance.now();
          const [vector] = await m.embedder.embed([query]);
          const t1 = performance.now();
          const hits = m.searchVector(vector as Float32Array, query, {
            k: parseCount(opts.limit, '--limit') ?? 10,
            filter: filterOf(opts),
            hybrid: opts.hybrid === true,
          });
          const t2 = performance.now();
          const timing = { embedMs: round(t1 - t0), searchMs: round(t2 - t1), memories: m.store.count() };
          if (opts.json) {
            printJson(io.stdout, {
              query,
              ...timing,
              results: hits.map((h) => ({
                id: h.id,
                score: h.score,
                similarity: h.similarity ?? null,
                vectorRank: h.vectorRank ?? null,
                textRank: h.textRank ?? null,
                agent: h.memory.agent,
                kind: h.memory.kind,
                content: h.memory.content,
                importance: h.memory.importance,
                createdAt: new Date(h.memory.createdAt).toISOString(),
              })),
            });
            return;
          }
          for (const h of hits)
            println(
              io.stdout,
              `${h.score.toFixed(3)}  #${h.id} ${h.memory.agent}/${h.memory.kind}  ${h.memory.content.replace(/\s+/g, ' ').slice(0, 120)}`,
            );
          if (hits.length === 0) println(io.stdout, 'no memories match');
          println(
            io.stderr,
            `searched ${timing.memories} memories in ${timing.searchMs} ms (query embedded in ${timing.embedMs} ms)`,
          );
        });
        result.code = 0;
      },
    );

  memory
    .command('stats')
    .description('how many memories, by agent and kind; the model; the file size')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withMemories(io, program, async (m, ctx) => {
        await m.ready;
        const path = memoryPath(ctx.dataDir);
        const bytes = [path, `${path}-wal`].reduce((n, p) => n + (existsSync(p) ? statSync(p).size : 0), 0);
        const stats = m.stats(bytes);
        if (opts.json) {
          printJson(io.stdout, stats);
          return;
        }
        println(io.stdout, `${stats.path}: ${stats.total} memories (${stats.pending} waiting for a vector)`);
        println(
          io.stdout,
          `model ${stats.model ?? 'none yet'} (${stats.dimension ?? 0}-d), ${(bytes / 1e6).toFixed(1)} MB`,
        );
        for (const row of stats.byAgent) println(io.stdout, `  ${row.agent} ${row.kind}: ${row.count}`);
      });
      result.code = 0;
    });

  memory
    .command('export')
    .description('write memories as JSONL (one memory a line, with its vector and model)')
    .option('--out <file>', 'the file to write (default: standard output)')
    .option('--agent <name>', "only this agent's memories")
    .action(async (opts: { out?: string; agent?: string }) => {
      await withMemories(io, program, async (m, ctx) => {
        const filter: MemoryFilter = opts.agent === undefined ? {} : { agent: opts.agent };
        let n = 0;
        if (opts.out === undefined) {
          for (const line of exportLines(m.store, filter)) {
            io.stdout.write(`${line}\n`);
            n++;
          }
          return;
        }
        const out = createWriteStream(opts.out.startsWith('/') ? opts.out : `${ctx.io.cwd}/${opts.out}`);
        for (const line of exportLines(m.store, filter)) {
          if (!out.write(`${line}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
          n++;
        }
        await new Promise<void>((resolve, reject) =>
          out.end((err?: Error | null) => (err ? reject(err) : resolve())),
        );
        println(io.stderr, `exported ${n} memories to ${opts.out}`);
      });
      result.code = 0;
    });

  memory
    .command('import')
    .description('read memories from a JSONL export (re-embedded when made by another model)')
    .argument('<file>', 'the JSONL file')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const path = file.startsWith('/') ? file : `${io.cwd}/${file}`;
      if (!existsSync(path)) throw new CliError(`no such file: ${file}`);
      await withMemories(io, program, async (m) => {
        // Opened once the memories are ready: a readline iterator made late misses the lines read meanwhile.
        await m.ready;
        const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
        let report: Awaited<ReturnType<typeof importLines>>;
        try {
          report = await importLines(m, lines);
        } catch (err) {
          if (err instanceof MemoryImportError) throw new CliError(`${file}: ${err.message}`);
          throw err;
        }
        if (opts.json) printJson(io.stdout, report);
        else
          println(
            io.stdout,
            `imported ${report.imported} memories (${report.keptVectors} with their vectors), ${report.skipped} already here`,
          );
      });
      result.code = 0;
    });

  memory
    .command('prune')
    .description('merge duplicates and drop the least weighty memories down to a budget per agent')
    .option('--budget <n>', 'memories each agent keeps (default memory.budgetPerAgent)')
    .option('--agent <name>', "only this agent's memories")
    .option('--json', 'print JSON')
    .action(async (opts: { budget?: string; agent?: string; json?: boolean }) => {
      const given = parseCount(opts.budget, '--budget');
      await withMemories(io, program, async (m, ctx) => {
        await m.ready;
        const budget = given ?? ctx.config.memory.budgetPerAgent;
        const report = m.prune(budget, opts.agent);
        if (opts.json) printJson(io.stdout, { budget, ...report });
        else {
          println(
            io.stdout,
            `merged ${report.merged} duplicates, removed ${report.removed} memories (budget ${budget})`,
          );
          for (const [agent, n] of Object.entries(report.kept)) println(io.stdout, `  ${agent}: ${n} kept`);
        }
      });
      result.code = 0;
    });

  memory
    .command('forget')
    .description("forget a customer: every memory of their jobs, the desk's and the agents' (docs/memory.md)")
    .requiredOption('--customer <npub>', "the customer's npub or hex pubkey")
    .option('--agent <name>', "only this agent's memories of them")
    .option('--json', 'print JSON')
    .action(async (opts: { customer: string; agent?: string; json?: boolean }) => {
      const customer = customerOf(opts.customer);
      await withMemories(io, program, async (m) => {
        const forgotten = m.forget({
          ...(opts.agent === undefined ? {} : { agent: opts.agent }),
          meta: { customer },
        });
        if (opts.json) printJson(io.stdout, { customer: encodeNpub(customer), forgotten });
        else println(io.stdout, `forgot ${forgotten} memories of ${encodeNpub(customer)}`);
      });
      result.code = 0;
    });

  registerMemoryBackup(memory, io, result, (run) => withMemories(io, program, run));
}

async function withMemories(
  io: CliIo,
  program: Command,
  run: (m: Memories, ctx: Context) => Promise<void>,
): Promise<void> {
  const ctx = await makeContext(io, program.opts());
  await mkdir(ctx.dataDir, { recursive: true, mode: 0o700 });
  let m: Memories;
  try {
    m = openMemories({
      config: ctx.config,
      dataDir: ctx.dataDir,
      logger: ctx.logger,
      onMigration: (p) =>
        println(io.stderr, `re-embedding memories with the configured model: ${p.done}/${p.total}`),
    });
  } catch (err) {
    throw new CliError(errorMessage(err));
  }
  try {
    await run(m, ctx);
  } finally {
    await m.close();
  }
}

function parseKind(text: string | undefined): MemoryKind | undefined {
  if (text === undefined) return undefined;
  if (!isMemoryKind(text)) throw new CliError(`--kind: ${text} is not one of ${MEMORY_KINDS.join(', ')}`, 2);
  return text;
}

function parseImportance(text: string | undefined): number {
  if (text === undefined) return 0.5;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new CliError(`--importance: ${text} is not between 0 and 1`, 2);
  return n;
}

function parseCount(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag}: ${text} is not a positive integer`, 2);
  return n;
}

function customerOf(text: string): string {
  try {
    return parsePubkey(text);
  } catch (err) {
    throw new CliError(`--customer: ${errorMessage(err)}`, 2);
  }
}

function filterOf(opts: { agent?: string; kind?: string; since?: string; customer?: string }): MemoryFilter {
  const kind = parseKind(opts.kind);
  const since = opts.since === undefined ? undefined : Date.parse(opts.since);
  if (since !== undefined && Number.isNaN(since))
    throw new CliError(`--since: ${opts.since} is not a date`, 2);
  return {
    ...(opts.agent === undefined ? {} : { agent: opts.agent }),
    ...(kind === undefined ? {} : { kinds: [kind] }),
    ...(since === undefined ? {} : { since }),
    ...(opts.customer === undefined ? {} : { meta: { customer: customerOf(opts.customer) } }),
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
