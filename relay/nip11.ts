import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { RelayLimits } from './limits.ts';
import type { AuthMode } from './policies.ts';

/** NIP-11 relay information document, served on the relay's own port to `Accept: application/nostr+json`. */
export interface RelayInfo {
  name: string;
  description: string;
  contact?: string;
  /** Hex pubkey of the operator. */
  pubkey?: string;
  software?: string;
  version?: string;
}

export const SUPPORTED_NIPS: readonly number[] = [1, 9, 11, 40, 42, 45];

const packageVersion = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export interface InfoDocumentInput {
  info: RelayInfo;
  limits: RelayLimits;
  auth: AuthMode;
  /** True when write policies refuse ordinary events (NIP-11 `restricted_writes`); auth implies it. */
  restrictedWrites: boolean;
}

export function infoDocument({
  info,
  limits,
  auth,
  restrictedWrites,
}: InfoDocumentInput): Record<string, unknown> {
  const doc: Record<string, unknown> = { name: info.name, description: info.description };
  if (info.pubkey) doc.pubkey = info.pubkey;
  if (info.contact) doc.contact = info.contact;
  doc.supported_nips = [...SUPPORTED_NIPS];
  doc.software = info.software ?? 'timmy-time';
  doc.version = info.version ?? packageVersion;
  const limitation: Record<string, unknown> = {
    max_message_length: limits.maxMessageBytes,
    max_subscriptions: limits.maxSubscriptions,
    max_filters: limits.maxFilters,
    max_limit: limits.maxLimit,
    // Not in NIP-11's list (yet): the most values in one filter list (ids, authors, kinds, each #x).
    max_filter_values: limits.maxFilterValues,
    max_subid_length: 64,
    max_event_tags: limits.maxEventTags,
    max_content_length: limits.maxContentBytes,
    auth_required: auth !== 'none',
    payment_required: false,
    restricted_writes: restrictedWrites || auth !== 'none',
    created_at_upper_limit: limits.createdAtFutureSeconds,
  };
  // 0 means "no lower limit" in the config; NIP-11 expresses that by leaving the field out.
  if (limits.createdAtPastSeconds > 0) limitation.created_at_lower_limit = limits.createdAtPastSeconds;
  doc.limitation = limitation;
  return doc;
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': '*',
  'Access-Control-Allow-Methods': 'GET, OPTIONS',
};

/** Answers a plain HTTP request to the relay port: NIP-11 for nostr+json, a short text otherwise. */
export function handleHttpRequest(
  req: IncomingMessage,
  res: ServerResponse,
  document: () => Record<string, unknown>,
  relayUrl: () => string,
): void {
  if (req.method === 'OPTIONS') {
    res.writeHead(204, CORS).end();
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res
      .writeHead(405, { ...CORS, Allow: 'GET, OPTIONS', 'Content-Type': 'text/plain' })
      .end('method not allowed\n');
    return;
  }
  if ((req.headers.accept ?? '').includes('application/nostr+json')) {
    const body = JSON.stringify(document());
    res.writeHead(200, { ...CORS, 'Content-Type': 'application/nostr+json' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  res.writeHead(200, { ...CORS, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(
    req.method === 'HEAD'
      ? undefined
      : `This is a Nostr relay. Connect with a Nostr client to ${relayUrl()}\n`,
  );
}
