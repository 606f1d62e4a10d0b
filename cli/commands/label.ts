import type { Command } from 'commander';
import { systemClock, unixSeconds } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { EventTemplate } from '../../core/nostr.ts';
import { isHex64 } from '../../dvm/kinds.ts';
import { encodeNpub } from '../../identity/nip19.ts';
import { RelayClient } from '../../relay/client.ts';
import {
  buildLabel,
  isLabelType,
  LABEL_KIND,
  LABEL_TYPE_WEIGHTS,
  type LabelInput,
} from '../../reputation/labels.ts';
import { buildRevocation } from '../../reputation/revocation.ts';
import { openKeyStore } from '../compose.ts';
import { type Context, makeContext } from '../context.ts';
import { CliError, type CliIo, printJson, println } from '../io.ts';
import { deskKey, resolvePubkey } from '../local-keys.ts';
import { relayUrlFor } from '../running-instance.ts';

interface LabelOptions {
  kind?: string;
  request?: string;
  result?: string;
  comment?: string;
  quality?: string;
  revoke?: string;
  relay?: string;
  json?: boolean;
}

const TYPES = Object.keys(LABEL_TYPE_WEIGHTS).join(', ');

/**
 * `timmy label <npub|hex|agent-name> <type>`: the operator rates an npub by hand with a NIP-32 label (kind
 * 1985, ai.wot) signed with the desk's key, published to the relay; `--revoke <id>` takes one of the desk's
 * labels back with a NIP-09 deletion.
 */
export function registerLabel(program: Command, io: CliIo, result: { code: number }): void {
  program
    .command('label')
    .description("rate an npub by hand: a reputation label (kind 1985) signed with the desk's key")
    .argument('<subject>', 'npub, hex pubkey or agent name')
    .argument('[type]', `label type: ${TYPES}`)
    .option('--kind <kind>', 'the job kind the rating is about (5000-5999)')
    .option('--request <id>', 'the job request (event id)')
    .option('--result <id>', 'the job result (event id)')
    .option('--comment <text>', 'a sentence saying why (the label content)')
    .option('--quality <q>', 'the rating of the result, 0 to 1 (service-quality)')
    .option('--revoke <id>', 'revoke the desk label with this id instead (NIP-09 deletion)')
    .option('--relay <url>', "relay to publish to (default: the running instance's)")
    .option('--json', 'print JSON')
    .action(async (subjectText: string, type: string | undefined, opts: LabelOptions) => {
      const ctx = await makeContext(io, program.opts());
      const { pubkey: subject } = await resolvePubkey(ctx, subjectText);
      const desk = await deskKey(ctx);
      if (!desk.pubkey)
        throw new CliError(
          `no key for the desk "${desk.name}" in ${ctx.dataDir}/keys: run timmy start once (or timmy keys new ${desk.name})`,
          1,
        );
      const url = await relayUrlFor(ctx.dataDir, opts.relay);
      const now = unixSeconds(systemClock);
      if (opts.revoke !== undefined) {
        const id = opts.revoke;
        if (!isHex64(id)) throw new CliError(`--revoke ${id} is not a label id (64 hex characters)`, 2);
        const deletion = await publishSigned(ctx, desk.name, url, async (client) => {
          await checkOwnLabel(client, id, desk.pubkey ?? '', subject);
          return buildRevocation([id], now, opts.comment ?? 'revoked by the operator');
        });
        if (opts.json) printJson(io.stdout, { revoked: id, deletion: deletion.id, relay: url });
        else println(io.stdout, `revoked label ${id}: deletion ${deletion.id}`);
        result.code = 0;
        return;
      }
      if (type === undefined) throw new CliError(`a label type is required: ${TYPES}`, 2);
      if (!isLabelType(type)) throw new CliError(`unknown label type "${type}" (${TYPES})`, 2);
      if (subject === desk.pubkey)
        throw new CliError(
          `${subjectText} is the desk's own key: a self-label is ignored by every reader`,
          2,
        );
      const input = labelInput(subject, type, now, opts);
      let template: EventTemplate;
      try {
        template = buildLabel(input);
      } catch (err) {
        throw new CliError(errorMessage(err), 2);
      }
      const label = await publishSigned(ctx, desk.name, url, async () => template);
      if (opts.json)
        printJson(io.stdout, {
          id: label.id,
          subject,
          npub: encodeNpub(subject),
          type,
          kind: input.jobKind ?? null,
          relay: url,
        });
      else println(io.stdout, label.id);
      result.code = 0;
    });
}

function labelInput(
  subject: string,
  type: LabelInput['type'],
  createdAt: number,
  opts: LabelOptions,
): LabelInput {
  const input: LabelInput = { subject, type, createdAt };
  if (opts.kind !== undefined) {
    if (!/^\d+$/.test(opts.kind)) throw new CliError(`--kind ${opts.kind} is not a job kind (5000-5999)`, 2);
    input.jobKind = Number(opts.kind);
  }
  if (opts.quality !== undefined) {
    const q = Number(opts.quality);
    if (opts.quality.trim() === '' || !(q >= 0 && q <= 1))
      throw new CliError(`--quality ${opts.quality} is not a number from 0 to 1`, 2);
    input.quality = q;
  }
  if (opts.request !== undefined) input.request = opts.request;
  if (opts.result !== undefined) input.result = opts.result;
  if (opts.comment !== undefined) input.comment = opts.comment;
  return input;
}

/** A label can be revoked only by its author: the desk's label about `subject`, found on the relay. */
async function checkOwnLabel(client: RelayClient, id: string, desk: string, subject: string): Promise<void> {
  const [event] = await client.query([{ ids: [id] }]);
  if (!event) throw new CliError(`no label ${id} on ${client.url}`, 1);
  if (event.kind !== LABEL_KIND) throw new CliError(`event ${id} is a kind ${event.kind}, not a label`, 1);
  if (event.pubkey !== desk)
    throw new CliError(
      `label ${id} was signed by ${encodeNpub(event.pubkey)}: only its author can revoke it`,
      1,
    );
  if (!event.tags.some((t) => t[0] === 'p' && t[1] === subject))
    throw new CliError(`label ${id} is not about ${encodeNpub(subject)}`, 1);
}

/** Signs what `build` returns with the desk's key and publishes it; the relay's refusal is the error. */
async function publishSigned(
  ctx: Context,
  deskName: string,
  url: string,
  build: (client: RelayClient) => Promise<EventTemplate>,
) {
  const keys = await openKeyStore(ctx.config, ctx.dataDir, ctx.logger);
  const { signer } = await keys.get(deskName);
  const client = new RelayClient({ url, logger: ctx.logger });
  try {
    await client.connect().catch((err: unknown) => {
      throw new CliError(`cannot reach the relay ${url}: ${errorMessage(err)}`, 1);
    });
    const event = await signer.signEvent(await build(client));
    await client.publish(event).catch((err: unknown) => {
      throw new CliError(`the relay ${url} refused the event: ${errorMessage(err)}`, 1);
    });
    return event;
  } finally {
    client.close();
  }
}
