import { loadPersonaFile } from '../agents/persona.ts';
import { errorMessage } from '../core/errors.ts';
import { parsePubkey } from '../identity/nip19.ts';
import { agentNames } from './agent-names.ts';
import type { Context } from './context.ts';
import { CliError } from './io.ts';

/**
 * This data directory's public keys by name, read without the passphrase: the desk (the persona file's
 * coordinator, whose key is `<dataDir>/keys/<name>.json`) and the agents, for commands that take
 * `<npub|hex|agent-name>`.
 */

export interface DeskKey {
  /** The coordinator's name in the persona file. */
  name: string;
  /** Its hex pubkey; undefined while it has no key yet (`timmy start` creates it). */
  pubkey: string | undefined;
}

/** The desk's (Timmy's, the coordinator's) name and pubkey; the persona file must be readable. */
export async function deskKey(ctx: Context, names?: Map<string, string>): Promise<DeskKey> {
  const { personas } = await loadPersonaFile(ctx.config.agents.personaFile);
  const name = personas.find((p) => p.role === 'coordinator')?.name;
  if (name === undefined) throw new CliError(`${ctx.config.agents.personaFile} names no coordinator`, 2);
  const byName = names ?? (await agentNames(ctx.dataDir));
  return { name, pubkey: [...byName].find(([, n]) => n === name)?.[0] };
}

/** What `<npub|hex|agent-name>` names: its hex pubkey, and its name when it is one of this directory's keys. */
export async function resolvePubkey(
  ctx: Context,
  text: string,
): Promise<{ pubkey: string; name: string | undefined }> {
  const names = await agentNames(ctx.dataDir);
  if (/^[0-9a-fA-F]+$/.test(text) || /^(nostr:)?n(pub|profile|sec)1/.test(text)) {
    let pubkey: string;
    try {
      pubkey = parsePubkey(text);
    } catch (err) {
      throw new CliError(`${text} is not an npub or a hex pubkey: ${errorMessage(err)}`, 2);
    }
    return { pubkey, name: names.get(pubkey) };
  }
  const pubkey = [...names].find(([, n]) => n === text)?.[0];
  if (pubkey !== undefined) return { pubkey, name: text };
  const { personas } = await loadPersonaFile(ctx.config.agents.personaFile);
  if (personas.some((p) => p.name === text))
    throw new CliError(`agent "${text}" has no key yet in ${ctx.dataDir}/keys (timmy start creates it)`, 2);
  const known = personas.map((p) => p.name).join(', ');
  throw new CliError(`"${text}" is neither an npub, a hex pubkey nor an agent name (agents: ${known})`, 2);
}
