import type { Command } from 'commander';
import {
  type PeerAgent,
  type PeerDesk,
  PeerDirectory,
  type PeerRelayStatus,
} from '../../agents/desk/peers.ts';
import { loadPersonaFile } from '../../agents/persona.ts';
import { systemClock } from '../../core/clock.ts';
import { withPeers } from '../../core/config.ts';
import { ConfigError, errorMessage } from '../../core/errors.ts';
import { jobKindInfo } from '../../dvm/kinds.ts';
import { encodeNpub, parsePubkey } from '../../identity/nip19.ts';
import { RelayClient } from '../../relay/client.ts';
import { agentNames } from '../agent-names.ts';
import { makeContext } from '../context.ts';
import { CliError, type CliIo, printJson, println } from '../io.ts';
import { runningReputation } from '../reputation-view.ts';

/** What `timmy peers` can show besides the peer relays' own events; each absent part prints `-`. */
export interface PeersHooks {
  /** An agent's reputation score (0-100) as this instance sees it, for a job kind when given; undefined: unknown. */
  score?: (pubkey: string, kind?: number) => number | undefined;
}

interface PeersOptions {
  peer: string[];
  wait: string;
  json?: boolean;
}

const MAX_WAIT_MS = 600_000;

/**
 * `timmy peers`: reads the peer relays (federation.peers and `--peer`) for a short window, read-only, and
 * lists the desks announced there and their agents: kinds, alive, last heartbeat, score.
 */
export function registerPeers(
  program: Command,
  io: CliIo,
  result: { code: number },
  hooks: PeersHooks = {},
): void {
  program
    .command('peers')
    .description(
      'the peer instances: desks and agents announced on the peer relays, their kinds, whether alive, their scores',
    )
    .option('--peer <url>', 'a peer relay besides federation.peers (repeatable)', collect, [])
    .option('--wait <ms>', 'the longest discovery window, in milliseconds', '3000')
    .option('--json', 'print JSON')
    .action(async (opts: PeersOptions) => {
      const ctx = await makeContext(io, program.opts());
      const config = withPeers(ctx.config, opts.peer);
      const waitMs = parseWait(opts.wait);
      const peers = config.federation.peers;
      if (peers.length === 0 && !opts.json) {
        println(
          io.stdout,
          'no peer relays: set federation.peers (TIMMY_FEDERATION_PEERS) or pass --peer <ws://…>',
        );
        result.code = 0;
        return;
      }
      // Scores from the running instance's relay (its labels, its seeds), unless a hook gives them.
      const rep = hooks.score ? undefined : await runningReputation(ctx);
      const scored: PeersHooks = rep ? { score: (pk, kind) => rep.book.score(pk, kind).score } : hooks;
      const dir = new PeerDirectory({
        peers,
        connect: (url) =>
          new RelayClient({
            url,
            logger: ctx.logger,
            connectTimeoutMs: Math.max(100, Math.min(waitMs, 5000)),
          }),
        self: await ownDesk(ctx.dataDir, ctx.config.agents.personaFile),
        trustedDesks: config.federation.trustedDesks.map((k) => pubkeyOf(k, 'federation.trustedDesks')),
        clock: systemClock,
        logger: ctx.logger,
        agentTimeoutMs: config.dvm.agentTimeoutMs,
      });
      try {
        await discover(dir, waitMs);
        const now = systemClock.now();
        const view = {
          peers: dir.relayStatus().map(relayRow),
          desks: dir.desks().map(deskRow),
          agents: dir.agents().map((a) => agentRow(a, now, scored)),
        };
        if (opts.json) printJson(io.stdout, view);
        else printView(io, view, waitMs);
      } finally {
        dir.stop();
      }
      result.code = 0;
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseWait(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > MAX_WAIT_MS)
    throw new ConfigError('--wait', `"${value}" is not a number of milliseconds (0-${MAX_WAIT_MS})`);
  return n;
}

function pubkeyOf(value: string, field: string): string {
  try {
    return parsePubkey(value);
  } catch (err) {
    throw new CliError(`${field}: ${value}: ${errorMessage(err)}`, 2);
  }
}

/** This data directory's desk (the coordinator's key), so that its own announcement is not listed. */
async function ownDesk(dataDir: string, personaFile: string): Promise<string | undefined> {
  try {
    const { personas } = await loadPersonaFile(personaFile);
    const boss = personas.find((p) => p.role === 'coordinator');
    const names = await agentNames(dataDir);
    return [...names].find(([, name]) => name === boss?.name)?.[0];
  } catch {
    return undefined;
  }
}

/**
 * Runs the directory until every peer relay has answered its stored queries (or failed) and every agent
 * found has been heard from, or `waitMs` passed: the live heartbeat of an agent comes every few seconds.
 */
function discover(dir: PeerDirectory, waitMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const heard = () => dir.settled() && dir.agents().every((a) => a.lastBeatAt !== undefined);
    const done = (): void => {
      clearTimeout(timer);
      off();
      resolve();
    };
    const timer = setTimeout(done, waitMs);
    const off = dir.onChange(() => {
      if (heard()) done();
    });
    dir.start();
    if (heard()) done();
  });
}

function relayRow(s: PeerRelayStatus) {
  return { url: s.url, state: s.state, answered: s.answered, error: s.error ?? null };
}

function deskRow(d: PeerDesk) {
  return {
    name: d.name,
    pubkey: d.pubkey,
    npub: encodeNpub(d.pubkey),
    relay: d.relay,
    kinds: d.kinds,
    agents: d.agents.map(encodeNpub),
    lastSeen: d.lastSeen,
  };
}

function agentRow(a: PeerAgent, now: number, hooks: PeersHooks) {
  return {
    name: a.name,
    pubkey: a.pubkey,
    npub: encodeNpub(a.pubkey),
    desk: encodeNpub(a.desk),
    relay: a.relay,
    kinds: a.kinds,
    prices: Object.fromEntries(a.prices),
    alive: a.alive,
    load: a.load,
    lastBeatAt: a.lastBeatAt ?? null,
    beatAgeSeconds: a.lastBeatAt === undefined ? null : Math.max(0, Math.round((now - a.lastBeatAt) / 1000)),
    score: hooks.score?.(a.pubkey) ?? null,
  };
}

type View = {
  peers: ReturnType<typeof relayRow>[];
  desks: ReturnType<typeof deskRow>[];
  agents: ReturnType<typeof agentRow>[];
};

function printView(io: CliIo, view: View, waitMs: number): void {
  for (const p of view.peers) {
    const state =
      p.state === 'unreachable'
        ? `unreachable (${p.error ?? 'no connection'})`
        : p.answered
          ? 'answered'
          : `no full answer within ${waitMs} ms`;
    println(io.stdout, `relay ${p.url}  ${state}`);
  }
  if (view.desks.length === 0) println(io.stdout, 'no peer desk found');
  for (const d of view.desks)
    println(
      io.stdout,
      `desk  ${d.name || '(unnamed)'}  ${d.npub}  on ${d.relay}  kinds ${d.kinds.join(', ') || '-'}  ${d.agents.length} agent(s)`,
    );
  for (const a of view.agents) {
    const beat = a.beatAgeSeconds === null ? 'never heard' : `last heartbeat ${a.beatAgeSeconds} s ago`;
    const state = a.alive ? `alive, load ${a.load}` : 'NOT ALIVE';
    println(io.stdout, `agent ${a.name}  ${state}  ${beat}  score ${a.score ?? '-'}  ${a.npub}`);
    const kinds = a.kinds.map((k) => `${k} ${jobKindInfo(k)?.name ?? ''}`.trim()).join(', ');
    println(io.stdout, `      serves ${kinds || '-'}  desk ${a.desk}  on ${a.relay}`);
  }
}
