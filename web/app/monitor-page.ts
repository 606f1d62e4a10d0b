/**
 * <timmy-monitor-page>: DVM activity on any relays — typed in, or taken from the NIP-65 relay lists (kind
 * 10002) found on our relay. Each relay gets its own connection; requests (5000-5999), results (6000-6999),
 * feedback (7000) and announcements (31990) are counted per kind and per DVM, ours or not. Only events
 * newer than the moment monitoring started count (replayed stored events are ignored), once each by id.
 */
import { ContextConsumer } from '@lit/context';
import { css, html, LitElement } from 'lit';
import { normalizeURL } from 'nostr-tools/utils';
import type { NostrEvent } from '../../core/nostr.ts';
import type { Subscription } from '../../core/transport.ts';
import { parseRelayList, RELAY_LIST_KIND } from '../../dvm/relay-list.ts';
import type { InstanceView } from '../instance-view.ts';
import { ApiController } from './api-controller.ts';
import { relayContext } from './context.ts';
import { BrowserRelayConnection } from './relay-connection.ts';
import { pageStyles } from './styles.ts';

export type DvmRole = 'request' | 'result' | 'feedback' | 'announcement';

/** What a DVM-related event is, and the job kind it is about (undefined for feedback). */
export function classify(e: Pick<NostrEvent, 'kind'>): { role: DvmRole; jobKind?: number } | undefined {
  if (e.kind >= 5000 && e.kind <= 5999) return { role: 'request', jobKind: e.kind };
  if (e.kind >= 6000 && e.kind <= 6999) return { role: 'result', jobKind: e.kind - 1000 };
  if (e.kind === 7000) return { role: 'feedback' };
  if (e.kind === 31990) return { role: 'announcement' };
  return undefined;
}

interface Counts {
  request: number;
  result: number;
  feedback: number;
  announcement: number;
}

function normalized(url: string): string | undefined {
  try {
    return normalizeURL(url);
  } catch {
    return undefined;
  }
}

const zero = (): Counts => ({ request: 0, result: 0, feedback: 0, announcement: 0 });

/** Counts DVM events once each, only those at or after `since` (unix seconds). */
export class DvmActivity {
  readonly byKind = new Map<number, Counts>();
  readonly byDvm = new Map<string, Counts>();
  readonly relaysOf = new Map<string, Set<string>>();
  readonly recent: { event: NostrEvent; relay: string }[] = [];
  private readonly seen = new Set<string>();
  ignoredOld = 0;

  constructor(readonly since: number) {}

  /** True when the event counted (new, live, DVM-related). */
  add(e: NostrEvent, relay: string): boolean {
    const c = classify(e);
    if (!c) return false;
    if (e.created_at < this.since) {
      this.ignoredOld++;
      return false;
    }
    if (this.seen.has(e.id)) {
      this.relaysOf.get(e.id)?.add(relay);
      return false;
    }
    this.seen.add(e.id);
    this.relaysOf.set(e.id, new Set([relay]));
    if (c.jobKind !== undefined) {
      const k = this.byKind.get(c.jobKind) ?? zero();
      k[c.role]++;
      this.byKind.set(c.jobKind, k);
    }
    if (c.role !== 'request') {
      const d = this.byDvm.get(e.pubkey) ?? zero();
      d[c.role]++;
      this.byDvm.set(e.pubkey, d);
    }
    this.recent.unshift({ event: e, relay });
    if (this.recent.length > 50) this.recent.length = 50;
    return true;
  }
}

/** A connection's status as a badge ("closed" alone would read as a healthy circuit breaker: green). */
const connectionState = { open: 'alive', connecting: 'connecting', closed: 'dead' } as const;

export class TimmyMonitorPage extends LitElement {
  static override properties = { urls: { state: true }, message: { state: true }, running: { state: true } };
  declare urls: string;
  declare message: string;
  declare running: boolean;

  private readonly relay = new ContextConsumer(this, { context: relayContext, subscribe: true });
  private readonly status = new ApiController<InstanceView>(this, () => '/api/status');
  private connections: { conn: BrowserRelayConnection; sub: Subscription }[] = [];
  private activity: DvmActivity | undefined;

  static override styles = [
    pageStyles,
    css`
      textarea {
        width: 100%;
        min-height: 4rem;
      }
    `,
  ];

  constructor() {
    super();
    this.urls = '';
    this.message = '';
    this.running = false;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stop();
  }

  /** The typed URLs, normalized like NIP-65 lists' (nostr-tools), so one relay is one connection. */
  private list(): string[] {
    const urls = this.urls.split(/[\s,]+/).filter((u) => /^wss?:\/\/\S+$/i.test(u));
    return [...new Set(urls.flatMap((u) => normalized(u) ?? []))];
  }

  private async fromNip65(): Promise<void> {
    const relay = this.relay.value;
    if (!relay) return;
    try {
      const lists = await relay.query([{ kinds: [RELAY_LIST_KIND], limit: 200 }], { timeoutMs: 5000 });
      const found = new Set(this.list());
      for (const e of lists) {
        try {
          for (const r of parseRelayList(e)) found.add(r.url);
        } catch {
          // a malformed list is skipped
        }
      }
      this.urls = [...found].join('\n');
      this.message = `${lists.length} relay list${lists.length === 1 ? '' : 's'} found on our relay`;
    } catch (err) {
      this.message = `could not read relay lists: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  private start(): void {
    this.stop();
    const urls = this.list();
    if (urls.length === 0) {
      this.message = 'enter ws:// or wss:// relay URLs';
      return;
    }
    const activity = new DvmActivity(Math.floor(Date.now() / 1000));
    this.activity = activity;
    this.connections = urls.map((url) => {
      const conn = new BrowserRelayConnection({ url });
      conn.addEventListener('status', () => this.requestUpdate());
      const sub = conn.subscribe([{ since: activity.since }], {
        onEvent: (e) => {
          if (activity.add(e, url)) this.requestUpdate();
        },
      });
      return { conn, sub };
    });
    this.running = true;
    this.message = `monitoring ${urls.length} relay${urls.length === 1 ? '' : 's'} since ${new Date(activity.since * 1000).toLocaleTimeString()}`;
  }

  private stop(): void {
    for (const { conn, sub } of this.connections) {
      sub.close();
      conn.close();
    }
    this.connections = [];
    this.running = false;
  }

  override render() {
    const ours = new Set((this.status.value?.agents ?? []).map((a) => a.pubkey));
    const a = this.activity;
    return html`<h1>Monitor relays</h1>
      <p class="muted">DVM traffic (NIP-90 requests, results, feedback; NIP-89 announcements) on any relays, ours or not. Only events newer than the start count.</p>
      <div class="card">
        <label for="urls">Relay URLs (one per line)</label>
        <textarea id="urls" .value=${this.urls} @input=${(e: Event) => {
          this.urls = (e.target as HTMLTextAreaElement).value;
        }} placeholder="wss://relay.example.com"></textarea>
        <div class="row">
          <button type="button" class="secondary" @click=${this.fromNip65}>Add relays from NIP-65 lists on our relay</button>
          <button type="button" @click=${this.start}>${this.running ? 'Restart' : 'Start monitoring'}</button>
          ${this.running ? html`<button type="button" class="secondary" @click=${() => this.stop()}>Stop</button>` : null}
        </div>
        <p role="status">${this.message}</p>
      </div>
      ${
        this.connections.length
          ? html`<h2>Relays</h2>
            <ul>${this.connections.map(({ conn }) => html`<li><code>${conn.url}</code> <timmy-state state=${connectionState[conn.status]}></timmy-state> ${conn.lastNotice ? html`<span class="muted">${conn.lastNotice}</span>` : null}</li>`)}</ul>`
          : null
      }
      ${
        a
          ? html`<p class="muted">${a.ignoredOld} replayed old event${a.ignoredOld === 1 ? '' : 's'} ignored.</p>
            <h2>Per job kind</h2>
            <div class="table-wrap"><table>
              <thead><tr><th scope="col">Kind</th><th scope="col">Requests</th><th scope="col">Results</th></tr></thead>
              <tbody>${[...a.byKind].sort((x, y) => x[0] - y[0]).map(([k, c]) => html`<tr><td>${k}</td><td>${c.request}</td><td>${c.result}</td></tr>`)}</tbody>
            </table></div>
            <h2>Per DVM</h2>
            <div class="table-wrap"><table>
              <thead><tr><th scope="col">DVM</th><th scope="col">Ours</th><th scope="col">Results</th><th scope="col">Feedback</th><th scope="col">Announcements</th></tr></thead>
              <tbody>${[...a.byDvm].map(
                ([pk, c]) =>
                  html`<tr><td><timmy-npub pubkey=${pk}></timmy-npub></td><td>${ours.has(pk) ? 'yes' : 'no'}</td><td>${c.result}</td><td>${c.feedback}</td><td>${c.announcement}</td></tr>`,
              )}</tbody>
            </table></div>
            <h2>Latest events</h2>
            <ul class="recent">${a.recent.map(
              ({
                event,
                relay,
              }) => html`<li>kind ${event.kind} by <timmy-npub pubkey=${event.pubkey}></timmy-npub> <timmy-time at=${event.created_at}></timmy-time> <span class="muted">on ${relay}</span>
                <div class="content">${event.content.slice(0, 200)}</div></li>`,
            )}</ul>`
          : null
      }`;
  }
}
