import type { Command } from 'commander';
import { loadPersonaFile } from '../../agents/persona.ts';
import { jobKindInfo } from '../../dvm/kinds.ts';
import { encodeNpub } from '../../identity/nip19.ts';
import { agentNames } from '../agent-names.ts';
import { makeContext } from '../context.ts';
import { type CliIo, printJson, println } from '../io.ts';
import { runningAgents } from '../running-instance.ts';
import { registerAgentsRun } from './agents-run.ts';

interface AgentRow {
  name: string;
  role: string;
  npub: string | undefined;
  kinds: number[];
  local?: boolean;
  alive: boolean | undefined;
  load: number | undefined;
  lastBeatAt: number | undefined;
  /** The overall reputation score (0-100) as the running instance sees it; null when unknown. */
  score: number | null;
}

/** `timmy agents`: who is on this instance, what each serves, and who is alive right now. */
export function registerAgents(program: Command, io: CliIo, result: { code: number }): void {
  const agents = program
    .command('agents')
    .description(
      'the agents of this instance: npub, job kinds served, liveness and load (from the running instance)',
    )
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const ctx = await makeContext(io, program.opts());
      let rows: AgentRow[] | undefined;
      const live = await runningAgents(ctx.dataDir);
      const running = live !== undefined;
      if (live) {
        // The instance scores its agents already (its book, fed live from its relay): /api/status says it.
        rows = live.map((a) => ({ ...a, npub: encodeNpub(a.pubkey), score: a.score ?? null }));
      }
      if (!rows) {
        // Not running: what the persona file and the key store say.
        const { personas } = await loadPersonaFile(ctx.config.agents.personaFile);
        const names = await agentNames(ctx.dataDir);
        const byName = new Map([...names].map(([pk, n]) => [n, pk]));
        rows = personas.map((p) => {
          const pk = byName.get(p.name);
          return {
            name: p.name,
            role: p.role,
            npub: pk ? encodeNpub(pk) : undefined,
            kinds: p.serves.map((s) => s.kind),
            alive: undefined,
            load: undefined,
            lastBeatAt: undefined,
            score: null,
          };
        });
      }
      if (opts.json) {
        printJson(io.stdout, { running, agents: rows });
        return;
      }
      if (!running)
        println(
          io.stdout,
          `no instance is running with data directory ${ctx.dataDir}; from the persona file:`,
        );
      for (const a of rows) {
        const kinds = a.kinds.map((k) => `${k} ${jobKindInfo(k)?.name ?? ''}`.trim()).join(', ');
        const state =
          a.alive === undefined
            ? ''
            : a.role === 'coordinator'
              ? 'coordinator'
              : `${a.alive ? `alive, load ${a.load ?? 0}` : 'NOT BEATING'}${a.local === false ? ' (elsewhere)' : ''}`;
        const score = running ? `score ${a.score ?? '-'}`.padEnd(12) : '';
        println(io.stdout, `${a.name.padEnd(8)} ${state.padEnd(28)} ${score}${a.npub ?? '(no key yet)'}`);
        if (kinds) println(io.stdout, `${''.padEnd(8)} serves ${kinds}`);
      }
      if (running && rows.some((a) => a.role !== 'coordinator' && a.alive === false)) result.code = 1;
    });
  registerAgentsRun(agents, program, io, result);
}
