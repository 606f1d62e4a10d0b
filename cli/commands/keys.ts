import type { Command } from 'commander';
import { dataFile } from '../../core/data-dir.ts';
import type { KeyStore } from '../../identity/keystore.ts';
import { openKeyStore as open } from '../compose.ts';
import { type Context, makeContext } from '../context.ts';
import { CliError, type CliIo, printJson, println } from '../io.ts';

function openKeyStore(ctx: Context): Promise<KeyStore> {
  return open(ctx.config, ctx.dataDir, ctx.logger);
}

export function registerKeys(program: Command, io: CliIo, result: { code: number }): void {
  const keys = program.command('keys').description('agent key pairs, encrypted at rest with NIP-49');

  keys
    .command('new <name>')
    .description('create a key pair for an agent (lowercase name: a-z, 0-9, "-" and "_")')
    .option('--json', 'print the new key as JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const ctx = await makeContext(io, program.opts());
      const store = await openKeyStore(ctx);
      if (await store.has(name)) throw new CliError(`a key named "${name}" already exists`);
      const key = await store.create(name);
      if (opts.json) printJson(io.stdout, { name: key.name, pubkey: key.pubkey, npub: key.npub });
      else println(io.stdout, `created ${key.name}: ${key.npub}`);
      result.code = 0;
    });

  keys
    .command('list')
    .description('list the key pairs (public keys only)')
    .option('--json', 'print the list as JSON')
    .action(async (opts: { json?: boolean }) => {
      const ctx = await makeContext(io, program.opts());
      const store = await openKeyStore(ctx);
      const list = await store.list();
      if (opts.json) printJson(io.stdout, list);
      else if (list.length === 0)
        println(io.stdout, `no keys yet in ${dataFile(ctx.dataDir, 'keys')} (timmy start creates them)`);
      else for (const k of list) println(io.stdout, `${k.name.padEnd(16)} ${k.npub}`);
      result.code = 0;
    });

  keys
    .command('show <name>')
    .description('show one key pair: hex pubkey, npub, nprofile; --secret also prints the nsec')
    .option('--secret', 'also print the secret key (nsec): anyone who sees it can act as this agent')
    .option('--json', 'print the key as JSON')
    .action(async (name: string, opts: { json?: boolean; secret?: boolean }) => {
      const ctx = await makeContext(io, program.opts());
      const store = await openKeyStore(ctx);
      if (!(await store.has(name))) throw new CliError(`no key named "${name}" (see timmy keys list)`);
      const key = await store.get(name);
      const info = (await store.list()).find((k) => k.name === name);
      const out: Record<string, unknown> = {
        name: key.name,
        pubkey: key.pubkey,
        npub: key.npub,
        createdAt: info?.createdAt,
        nip05: `${key.name}@${ctx.config.identity.domain}`,
      };
      if (opts.secret) out.nsec = await store.exportNsec(name);
      if (opts.json) printJson(io.stdout, out);
      else {
        for (const [k, v] of Object.entries(out))
          if (v !== undefined) println(io.stdout, `${k.padEnd(9)} ${String(v)}`);
        if (opts.secret)
          println(io.stderr, "warning: the nsec above is the agent's secret key; do not share it");
      }
      result.code = 0;
    });
}
