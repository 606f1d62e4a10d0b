import type { Command } from 'commander';
import { isJobRequestKind } from '../../dvm/kinds.ts';
import { encodeNpub } from '../../identity/nip19.ts';
import { formatExplanation } from '../../reputation/explain.ts';
import type { LabelRejection } from '../../reputation/labels.ts';
import { makeContext } from '../context.ts';
import { CliError, type CliIo, printJson, println } from '../io.ts';
import { deskKey, resolvePubkey } from '../local-keys.ts';
import { reputationAt } from '../reputation-view.ts';
import { relayUrlFor } from '../running-instance.ts';

interface RepOptions {
  kind?: string;
  relay?: string;
  json?: boolean;
}

/**
 * `timmy rep <npub|hex|agent-name>`: an npub's reputation as this instance sees it (its desk and
 * `reputation.seeds` as the seeds), read from the relay's labels: the score overall or for one job kind, its
 * explanation, and the labels about it that were refused, with the reason.
 */
export function registerRep(program: Command, io: CliIo, result: { code: number }): void {
  program
    .command('rep')
    .description("an npub's reputation score (0-100) with its explanation, from the labels on the relay")
    .argument('<subject>', 'npub, hex pubkey or agent name')
    .option('--kind <kind>', 'the score for one job kind (5000-5999)')
    .option('--relay <url>', "relay to read (default: the running instance's)")
    .option('--json', 'print JSON')
    .action(async (subjectText: string, opts: RepOptions) => {
      const ctx = await makeContext(io, program.opts());
      const kind = parseKind(opts.kind);
      const { pubkey, name } = await resolvePubkey(ctx, subjectText);
      const url = await relayUrlFor(ctx.dataDir, opts.relay);
      const view = await reputationAt(ctx, url);
      const score = view.book.score(pubkey, kind);
      const kinds = view.book.scores(pubkey).kinds;
      const rejected = view.rejections.get(pubkey) ?? [];
      if (opts.json) {
        printJson(io.stdout, {
          subject: pubkey,
          npub: encodeNpub(pubkey),
          name: name ?? null,
          relay: url,
          kind: kind ?? null,
          score: score.score,
          rank: score.rank,
          version: score.explanation.version,
          labels: score.labels,
          kinds: kinds.map((k) => ({ kind: k.jobKind, score: k.score, rank: k.rank, labels: k.labels })),
          rejected: rejected.map(rejectionRow),
          seeds: view.seeds.map(encodeNpub),
          read: view.read,
          explanation: score.explanation,
        });
        result.code = 0;
        return;
      }
      const who = name ? `${name} (${encodeNpub(pubkey)})` : encodeNpub(pubkey);
      const scope = kind === undefined ? 'overall' : `for kind ${kind}`;
      println(
        io.stdout,
        `${who} ${scope}: ${score.score} / 100 (${score.explanation.version}), ${labelCount(score.labels)}`,
      );
      if (kind === undefined && kinds.length > 0)
        println(io.stdout, `by kind: ${kinds.map((k) => `${k.jobKind} ${k.score}`).join(', ')}`);
      if (view.seeds.length === 0)
        println(io.stdout, 'no seeds (no desk key here, reputation.seeds empty): every rater is a stranger');
      println(io.stdout, formatExplanation(score, score.explanation));
      const desk = (await deskKey(ctx).catch(() => undefined))?.pubkey;
      const own = score.explanation.counted.filter((c) => c.rater === desk);
      if (own.length > 0) {
        println(io.stdout, "the desk's labels counted here (timmy label --revoke <id> takes one back):");
        for (const c of own)
          println(io.stdout, `  ${c.id} ${c.type}${c.jobKind === undefined ? '' : ` kind ${c.jobKind}`}`);
      }
      if (rejected.length > 0) {
        println(io.stdout, `rejected labels about this npub: ${rejected.length}`);
        for (const r of rejected)
          println(io.stdout, `  ignored: ${r.code}: ${r.reason} (label ${r.id} from ${encodeNpub(r.rater)})`);
      }
      if (view.read.truncated)
        println(io.stdout, `note: only the newest ${view.read.labels} labels of ${url} were read`);
      result.code = 0;
    });
}

function parseKind(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const kind = Number(value);
  if (!/^\d+$/.test(value) || !isJobRequestKind(kind))
    throw new CliError(`--kind ${value} is not a job kind (5000-5999)`, 2);
  return kind;
}

function labelCount(n: number): string {
  return n === 0 ? 'no labels' : `${n} label${n === 1 ? '' : 's'}`;
}

function rejectionRow(r: LabelRejection) {
  return { id: r.id, rater: r.rater, code: r.code, reason: r.reason, createdAt: r.createdAt };
}
