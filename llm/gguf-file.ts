/**
 * Cheap checks on a GGUF model file before anything heavier touches it: it exists, is readable, starts with
 * the "GGUF" magic and a known format version. Used by the llama-cpp provider, `timmy models` and the fetch.
 */
import { open, stat } from 'node:fs/promises';
import { errorMessage } from '../core/errors.ts';

export class GgufFileError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'GgufFileError';
  }
}

/** True when the bytes start with the GGUF magic. */
export function hasGgufMagic(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46;
}

/** Checks the file; resolves to its GGUF version and size, or throws a GgufFileError saying what is wrong. */
export async function checkGgufFile(path: string): Promise<{ version: number; bytes: number }> {
  let bytes: number;
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new GgufFileError(path, `${path} is a directory, not a GGUF model file`);
    bytes = s.size;
  } catch (err) {
    if (err instanceof GgufFileError) throw err;
    throw new GgufFileError(path, describeFsError(path, err));
  }
  const head = Buffer.alloc(8);
  let read = 0;
  try {
    const fh = await open(path, 'r');
    try {
      read = (await fh.read(head, 0, 8, 0)).bytesRead;
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new GgufFileError(path, describeFsError(path, err));
  }
  if (read < 8 || !hasGgufMagic(head))
    throw new GgufFileError(path, `${path} is not a GGUF model file (it does not start with "GGUF")`);
  const version = head.readUInt32LE(4);
  if (version < 1 || version > 3)
    throw new GgufFileError(path, `${path}: unsupported GGUF version ${version} (expected 1 to 3)`);
  return { version, bytes };
}

function describeFsError(path: string, err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOENT') return `model file not found: ${path}`;
  if (code === 'EACCES' || code === 'EPERM') return `cannot read model file ${path}: permission denied`;
  return `cannot read model file ${path}: ${errorMessage(err)}`;
}
