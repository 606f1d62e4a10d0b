import { randomBytes } from 'node:crypto';
import { link, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Creates `file` with `content` atomically and only if it does not exist yet: readers see no file or the
 * whole file, never a partial one, and of two concurrent writers exactly one wins; the other gets an error
 * with code `EEXIST`. How: a temporary file in the same directory (mode `mode`, fsynced), hard-linked into
 * place (link() fails when the target exists), then the directory fsynced. On a file system without hard
 * links it falls back to check-then-rename, which is atomic for readers but not race-free between writers.
 * The directory must exist.
 */
export async function createFileAtomic(file: string, content: string, mode = 0o600): Promise<void> {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(content, 'utf8');
      await fh.chmod(mode); // the umask may have narrowed it
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await link(tmp, file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
      if (await exists(file))
        throw Object.assign(new Error(`EEXIST: file already exists, ${file}`), { code: 'EEXIST' });
      await rename(tmp, file);
    }
  } finally {
    await unlink(tmp).catch(() => {});
  }
  await syncDir(dir);
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Makes a new directory entry durable; not possible everywhere, and not worth failing over. */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // ignore
  }
}
