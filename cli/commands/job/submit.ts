import type { Command } from 'commander';
import { errorMessage } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { JobClient, ResultDecryptError } from '../../../customer/job-client.ts';
import { JobPayer } from '../../../customer/payer.ts';
import { parseFeedback } from '../../../dvm/feedback.ts';
import { jobKindInfo } from '../../../dvm/kinds.ts';
import { INPUT_TYPES, type InputType } from '../../../dvm/request.ts';
import { generateLocalSigner } from '../../../identity/signer.ts';
import { formatMsats } from '../../../payments/wallet.ts';
import { RelayClient } from '../../../relay/client.ts';
import { makeContext } from '../../context.ts';
import { customerWallet } from '../../customer-wallet.ts';
import { CliError, type CliIo, printJson, println } from '../../io.ts';
import { expectedPayees, relayUrlFor, resolveAgent, runningAgents } from '../../running-instance.ts';

interface SubmitOptions {
  kind: string;
  inputType: string;
  param: string[];
  output?: string;
  bid?: string;
  to?: string;
  encrypt?: boolean;
  relay?: string;
  timeout: string;
  json?: boolean;
  nwc?: string;
  maxPay?: string;
  pay: boolean;
  rate?: string;
}

/** What a job may cost without --max-pay or --bid: 100 sats. */
const DEFAULT_MAX_PAY_MSATS = 100_000;

/** Exit code when no result came in time. */
const TIMEOUT_EXIT = 4;

/**
 * `timmy job submit`: acts as a customer from any Nostr client would — a fresh key, a NIP-90 request on the
 * relay, then the feedback and the result as they arrive.
 */
export function registerJobSubmit(job: Command, program: Command, io: CliIo, result: { code: number }): void {
  job
    .command('submit')
    .description('publish a NIP-90 job request as a customer, print its feedback, wait for the result')
    .argument('<input...>', 'the input (text, or a URL / event id / job id with --input-type)')
    .option(
      '-k, --kind <n>',
      'job kind (5001 summary, 5050 text generation, 5002 translation, 5700 echo…)',
      '5001',
    )
    .option('-t, --input-type <type>', `how to read the input: ${INPUT_TYPES.join(', ')}`, 'text')
    .option(
      '-p, --param <name=value>',
      'a job parameter (repeatable), e.g. --param language=es',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--output <mime>', 'wanted output MIME type (NIP-90 output tag)')
    .option('--bid <msats>', 'the most you offer to pay, in millisats')
    .option('--to <agent>', 'address one agent: its name on this instance, its npub, or hex pubkey')
    .option('--encrypt', 'encrypt the inputs and params to the addressed agent (NIP-44; needs --to)')
    .option('--relay <url>', "relay to use (default: the running instance's relay)")
    .option('--timeout <seconds>', 'how long to wait for the result', '120')
    .option('--json', 'print the request, the feedback and the result as JSON')
    .option(
      '--nwc <url>',
      "pay with this NWC wallet (default: the instance's demo customer wallet of test sats, when the embedded wallet runs)",
    )
    .option(
      '--max-pay <msats>',
      `the most to pay without asking (default: --bid, else ${DEFAULT_MAX_PAY_MSATS})`,
    )
    .option('--no-pay', 'never pay: a job that asks for payment ends with an error')
    .option(
      '--rate <0-1>',
      "when the job ends, label the agent with this rating (NIP-32, signed with this job's customer key)",
    )
    .action(async (words: string[], opts: SubmitOptions) => {
      const ctx = await makeContext(io, program.opts());
      const quality = opts.rate === undefined ? undefined : Number(opts.rate);
      if (quality !== undefined && !(quality >= 0 && quality <= 1))
        throw new CliError(`--rate must be a number from 0 to 1, got "${opts.rate}"`, 2);
      const kind = Number(opts.kind);
      if (!Number.isInteger(kind) || kind < 5000 || kind > 5999)
        throw new CliError(`--kind must be a job request kind from 5000 to 5999, got "${opts.kind}"`, 2);
      if (!(INPUT_TYPES as readonly string[]).includes(opts.inputType))
        throw new CliError(`--input-type must be one of ${INPUT_TYPES.join(', ')}`, 2);
      const timeoutS = Number(opts.timeout);
      if (!Number.isFinite(timeoutS) || timeoutS <= 0)
        throw new CliError('--timeout must be a positive number of seconds', 2);
      const params: [string, string][] = opts.param.map((p) => {
        const eq = p.indexOf('=');
        if (eq <= 0) throw new CliError(`--param must look like name=value, got "${p}"`, 2);
        return [p.slice(0, eq), p.slice(eq + 1)];
      });
      let bidMsats: number | undefined;
      if (opts.bid !== undefined) {
        bidMsats = Number(opts.bid);
        if (!Number.isSafeInteger(bidMsats) || bidMsats < 0)
          throw new CliError('--bid must be a whole number of millisats', 2);
      }
      if (
        opts.maxPay !== undefined &&
        !(Number.isSafeInteger(Number(opts.maxPay)) && Number(opts.maxPay) >= 0)
      )
        throw new CliError('--max-pay must be a whole number of millisats', 2);
      const relayUrl = await relayUrlFor(ctx.dataDir, opts.relay);
      const payWith = opts.pay ? await customerWallet(ctx, opts.nwc, relayUrl) : undefined;
      const wallet = payWith?.wallet;
      // The running instance's agents, asked at most once (for --to by name and for the expected payees).
      let agents: ReturnType<typeof runningAgents> | undefined;
      const instanceAgents = () => (agents ??= runningAgents(ctx.dataDir));
      const to = opts.to ? await resolveAgent(opts.to, instanceAgents) : undefined;
      if (opts.encrypt && !to) throw new CliError('--encrypt needs --to (the agent to encrypt for)', 2);
      const say = (line: string): void => {
        if (!opts.json) println(io.stderr, line);
      };
      const payer = new JobPayer({
        wallet,
        budgetMsats: JobPayer.budget(
          opts.maxPay === undefined ? undefined : Number(opts.maxPay),
          bidMsats,
          DEFAULT_MAX_PAY_MSATS,
        ),
        budgetName: '--max-pay',
        say,
        noWallet: opts.pay ? undefined : 'not paying (--no-pay)',
        payees: await expectedPayees(instanceAgents, opts.relay, to),
      });
      const relay = new RelayClient({ url: relayUrl, logger: silentLogger });
      const client = new JobClient({ relay, signer: generateLocalSigner() });
      try {
        const request = await client.sign({
          kind,
          inputs: [{ data: words.join(' '), type: opts.inputType as InputType }],
          params,
          output: opts.output,
          bidMsats,
          relays: [relayUrl],
          provider: to,
          encrypt: opts.encrypt,
        });
        await relay.connect().catch((err: unknown) => {
          throw new CliError(`cannot reach the relay ${relayUrl}: ${errorMessage(err)}`, 1);
        });
        const info = jobKindInfo(kind);
        say(`job ${request.id} (kind ${kind}${info ? ` ${info.name}` : ''}) published to ${relayUrl}`);
        const testSats = payWith?.testSats ? ', test sats' : '';
        const outcome = await client
          .follow(
            request,
            {
              timeoutMs: timeoutS * 1000,
              payer,
              settleMs: 5000,
              onFeedback: (_e, f) => {
                if (!f) return;
                const amount =
                  f.amountMsats !== undefined ? ` (${formatMsats(f.amountMsats)}${testSats})` : '';
                say(`[${f.status}] ${f.message}${amount}`);
              },
            },
            true,
          )
          .catch((err: unknown) => {
            if (err instanceof ResultDecryptError) throw new CliError(err.message, 1);
            throw err;
          });
        if (quality !== undefined) {
          const label = await client.rate(outcome, { quality }).catch((err: unknown) => {
            say(`timmy: the rating was not published: ${errorMessage(err)}`);
            return undefined;
          });
          if (label) say(`rated the agent ${quality} (label ${label.id})`);
          else if (!outcome.error && !outcome.result)
            say('timmy: nobody to rate: no result and no error came');
        }
        if (opts.json) {
          printJson(io.stdout, {
            request: request.id,
            kind,
            feedback: outcome.feedback.flatMap((e) => {
              try {
                const f = parseFeedback(e);
                return [{ status: f.status, message: f.message, from: e.pubkey, at: e.created_at }];
              } catch {
                return [];
              }
            }),
            payments: outcome.payments.map(({ outcome: _, ...p }) => p),
            result: outcome.result
              ? { id: outcome.result.id, from: outcome.result.pubkey, content: outcome.content }
              : undefined,
            error: outcome.error,
            timedOut: outcome.timedOut,
          });
        } else if (outcome.content !== undefined) println(io.stdout, outcome.content);
        if (outcome.error) {
          say(`timmy: job failed: ${outcome.error}`);
          result.code = 1;
        } else if (outcome.timedOut) {
          say(
            `timmy: no result within ${timeoutS} s (the job may still finish: \`timmy job show ${request.id.slice(0, 12)}\`)`,
          );
          result.code = TIMEOUT_EXIT;
        }
      } finally {
        relay.close();
        wallet?.close();
      }
    });
}
