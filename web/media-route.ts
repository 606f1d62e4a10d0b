/**
 * `/media/<sha256>.wav`: the instance's media files (web/media-store.ts), such as the speech of a kind 5250
 * job, for any client. GET and HEAD; `audio/wav`, the length, an ETag (the name is the content's hash, so
 * the file never changes: cached for a year), `nosniff`; 404 for any other name. Free (no L402), read-only.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { MediaStore } from './media-store.ts';

export const MEDIA_PATH = '/media/';

export function isMediaPath(pathname: string): boolean {
  return pathname.startsWith(MEDIA_PATH);
}

/** The URL of a stored media file under `base` (the instance's public HTTP URL). */
export function mediaUrl(base: string, name: string): string {
  return `${base.replace(/\/+$/, '')}${MEDIA_PATH}${name}`;
}

export async function serveMedia(
  store: MediaStore,
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
): Promise<void> {
  const found = await store.find(pathname.slice(MEDIA_PATH.length));
  if (!found) {
    const body = JSON.stringify({ error: `no such media file: ${pathname}` });
    res.writeHead(404, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Access-Control-Allow-Origin': '*',
    });
    res.end(body);
    return;
  }
  const etag = `"${pathname.slice(MEDIA_PATH.length, MEDIA_PATH.length + 64)}"`;
  const headers = {
    'Content-Type': 'audio/wav',
    'Cache-Control': 'public, max-age=31536000, immutable',
    ETag: etag,
    'X-Content-Type-Options': 'nosniff',
    'Access-Control-Allow-Origin': '*',
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': found.bytes });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  await pipeline(createReadStream(found.path), res);
}
