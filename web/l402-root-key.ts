import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorMessage } from '../core/errors.ts';

/**
 * Reads the L402 root key from `file`, or creates it (32 random bytes, mode 0600) when the file does not
 * exist. Creation is atomic and never replaces a key: the bytes are written and synced to a temporary file
 * that is then hard-linked into place, so a concurrent creator's key wins and both read the same one.
 */
export async function loadOrCreateRootKey(file: string): Promise<Uint8Array> {
  const existing = await readRootKey(file);
  if (existing) return existing;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(randomBytes(32));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new Error(`cannot create the L402 root key ${file}: ${errorMessage(err)}`);
  } finally {
    await unlink(tmp).catch(() => {});
  }
  const key = await readRootKey(file);
  if (!key) throw new Error(`the L402 root key ${file} vanished while it was being created`);
  return key;
}

async function readRootKey(file: string): Promise<Uint8Array | undefined> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read the L402 root key ${file}: ${errorMessage(err)}`);
  }
  if (data.length !== 32)
    throw new Error(
      `the L402 root key ${file} holds ${data.length} bytes, not 32: it is not a root key (move it away and a new one is made; tokens minted with the old key then stop working)`,
    );
  return new Uint8Array(data);
}
