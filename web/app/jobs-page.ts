/**
 * <timmy-jobs-page>: the desk's jobs, most recently changed first, filtered by state, kind and agent, a page
 * at a time. Live: the desk's events on the relay (requests of the kinds served, feedback, assignments,
 * auctions, labels) make the list reload at once (coalesced); a slow poll covers what the relay does not say.
 */
import { ContextConsumer } from '@lit/context';
import { html, LitElement } from 'lit';
import { AUCTION_OPEN_KIND, AUCTION_RECORD_KIND } from '../../auction/kinds.ts';
import { ASSIGNMENT_KIND, FEEDBACK_KIND } from '../../dvm/kinds.ts';
import type { JobList } from '../api-types.ts';
import type { InstanceView } from '../instance-view.ts';
import { ApiController } from './api-controller.ts';
import { relayContext } from './context.ts';
import { RelaySubscriptionController } from './relay-subscription-controller.ts';
import { pageStyles } from './styles.ts';

/** A burst of events (an auction: opening, bids, record, assignment) reloads the list once. */
const COALESCE_MS = 250;

const STATES = [
  '',
  'posted',
  'awaiting-approval',
  'bidding',
  'assigned',
  'paid',
  'started',
  'completed',
  'failed',
  'expired',
  'rejected',
];

export class TimmyJobsPage extends LitElement {
  static override properties = {
    state: { state: true },
    kind: { state: true },
    agent: { state: true },
    cursors: { state: true },
  };
  declare state: string;
  declare kind: string;
  declare agent: string;
  /** `before` of each page shown so far (the first is undefined). */
  declare cursors: (number | undefined)[];

  private readonly jobs = new ApiController<JobList>(this, () => this.path(), { refreshMs: 15_000 });
  private readonly status = new ApiController<InstanceView>(this, () => '/api/status');
  private readonly relay = new ContextConsumer(this, { context: relayContext, subscribe: true });
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;
  readonly live = new RelaySubscriptionController(this, {
    relay: () => this.relay.value,
    filters: () => {
      const served = new Set<number>();
      for (const a of this.status.value?.agents ?? []) for (const k of a.kinds) served.add(k);
      const kinds = [...served, FEEDBACK_KIND, ASSIGNMENT_KIND, AUCTION_OPEN_KIND, AUCTION_RECORD_KIND, 1985];
      return [{ kinds: kinds.sort((a, b) => a - b), limit: 0 }];
    },
    liveOnly: true,
    max: 50,
    onEvent: () => {
      if (this.reloadTimer !== undefined) return;
      this.reloadTimer = setTimeout(() => {
        this.reloadTimer = undefined;
        void this.jobs.reload();
      }, COALESCE_MS);
    },
  });

  static override styles = pageStyles;

  constructor() {
    super();
    this.state = '';
    this.kind = '';
    this.agent = '';
    this.cursors = [undefined];
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.reloadTimer);
    this.reloadTimer = undefined;
  }

  path(): string {
    const q = new URLSearchParams();
    if (this.state) q.set('state', this.state);
    if (/^\d+$/.test(this.kind.trim())) q.set('kind', this.kind.trim());
    if (this.agent.trim()) q.set('agent', this.agent.trim());
    q.set('limit', '25');
    const before = this.cursors[this.cursors.length - 1];
    if (before !== undefined) q.set('before', String(before));
    return `/api/jobs?${q}`;
  }

  private filter(change: () => void): void {
    change();
    this.cursors = [undefined];
  }

  override render() {
    const list = this.jobs.value;
    return html`<h1>Jobs</h1>
      <form class="card row" role="search" @submit=${(e: Event) => e.preventDefault()}>
        <label
          >State
          <select @change=${(e: Event) => this.filter(() => (this.state = (e.target as HTMLSelectElement).value))}>
            ${STATES.map((s) => html`<option value=${s} ?selected=${s === this.state}>${s || 'any'}</option>`)}
          </select>
        </label>
        <label
          >Kind
          <input
            inputmode="numeric"
            size="6"
            .value=${this.kind}
            @change=${(e: Event) => this.filter(() => (this.kind = (e.target as HTMLInputElement).value))}
        /></label>
        <label
          >Agent (npub or hex)
          <input
            .value=${this.agent}
            @change=${(e: Event) => this.filter(() => (this.agent = (e.target as HTMLInputElement).value))}
        /></label>
      </form>
      ${this.jobs.error ? html`<p class="error" role="alert">${this.jobs.error}</p>` : null}
      ${list && list.jobs.length === 0 ? html`<p class="muted">No jobs match.</p>` : null}
      <div class="table-wrap">
        <table>
          <caption class="sr-only">Jobs</caption>
          <thead>
            <tr><th scope="col">Job</th><th scope="col">Kind</th><th scope="col">State</th><th scope="col">Agent</th><th scope="col">Price</th><th scope="col">Payment</th><th scope="col">Updated</th></tr>
          </thead>
          <tbody>
            ${(list?.jobs ?? []).map(
              (j) => html`<tr>
                <td><a href=${`/jobs/${j.id}`}><code>${j.id.slice(0, 12)}…</code></a></td>
                <td>${j.kind}</td>
                <td><timmy-state state=${j.state}></timmy-state></td>
                <td>${j.agent ? html`<timmy-npub pubkey=${j.agent} href=${`/agents/${j.agent}`}></timmy-npub>` : '—'}</td>
                <td><timmy-sats .msats=${j.priceMsats}></timmy-sats></td>
                <td>${j.payment ? html`<timmy-state state=${j.payment}></timmy-state>` : '—'}</td>
                <td><timmy-time at=${j.updatedAt}></timmy-time></td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <div class="row" style="margin-top:.75rem">
        <button
          type="button"
          class="secondary"
          ?disabled=${this.cursors.length <= 1}
          @click=${() => {
            this.cursors = this.cursors.slice(0, -1);
          }}
        >
          ← Newer
        </button>
        <button
          type="button"
          class="secondary"
          ?disabled=${list?.next === undefined}
          @click=${() => {
            this.cursors = [...this.cursors, list?.next];
          }}
        >
          Older →
        </button>
        <span class="muted">page ${this.cursors.length}</span>
      </div>`;
  }
}
