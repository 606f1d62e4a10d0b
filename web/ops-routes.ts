/**
 * The operator's routes: `/metrics` (Prometheus text, by `metrics.access`) and `/readyz` (200 when every
 * part is ready, else 503 naming what is not). Neither is charged for (L402) nor part of the dashboard.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verifyNip98 } from '../identity/nip98.ts';

export type MetricsAccess = 'loopback' | 'owners' | 'public';

export interface MetricsServing {
  text(): Promise<string>;
  contentType: string;
  access: MetricsAccess;
  /** The dashboard owners (hex pubkeys), for `owners` access. */
  owners: () => readonly string[];
  /** Seconds since the epoch (NIP-98's clock check); default the system clock. */
  nowSeconds?: () => number;
}

/** One readiness fact: a part of the instance and whether it is ready (with why not). */
export interface ReadyCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

export const METRICS_PATH = '/metrics';
export const READY_PATH = '/readyz';

/** Whether the client is on this machine (127.0.0.0/8 or ::1, IPv4-mapped included). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** Why the request may not read the metrics, or undefined when it may. */
export async function metricsRefusal(
  serving: MetricsServing,
  req: IncomingMessage,
  requestUrl: string,
): Promise<string | undefined> {
  if (serving.access === 'public') return undefined;
  if (serving.access === 'loopback') {
    return isLoopback(req.socket.remoteAddress)
      ? undefined
      : 'metrics are served to loopback clients only (metrics.access = loopback)';
  }
  const checked = await verifyNip98({
    authorization: req.headers.authorization,
    url: requestUrl,
    method: req.method ?? 'GET',
    nowSeconds: serving.nowSeconds?.() ?? Math.floor(Date.now() / 1000),
  });
  if (!checked.ok) return `metrics need a NIP-98 Authorization of a dashboard owner: ${checked.reason}`;
  if (!serving.owners().includes(checked.pubkey))
    return 'metrics are served to the dashboard owners only (metrics.access = owners)';
  return undefined;
}

export async function serveMetrics(
  serving: MetricsServing,
  req: IncomingMessage,
  res: ServerResponse,
  requestUrl: string,
): Promise<void> {
  const refusal = await metricsRefusal(serving, req, requestUrl);
  if (refusal !== undefined) {
    sendText(res, 403, 'text/plain; charset=utf-8', `${refusal}\n`);
    return;
  }
  sendText(res, 200, serving.contentType, await serving.text());
}

export async function serveReady(
  checks: () => Promise<readonly ReadyCheck[]>,
  res: ServerResponse,
): Promise<void> {
  const all = await checks();
  const notReady = all.filter((c) => !c.ok).map((c) => c.name);
  const body = JSON.stringify({ ready: notReady.length === 0, notReady, checks: all });
  sendText(res, notReady.length === 0 ? 200 : 503, 'application/json; charset=utf-8', body);
}

function sendText(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
