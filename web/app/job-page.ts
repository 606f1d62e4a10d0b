/**
 * <timmy-job-page .jobId>: a job's life on one page, live from the relay as any client sees it: the
 * request → the auction (commitments as they arrive, openings, the record, and a "Verify" button that
 * recomputes the auction in this browser from the relay's events: auction/on-relay.ts) → the payment
 * (invoice, held, settled or refunded) → feedback → result → labels; and the desk's state-machine timeline
 * (GET /api/jobs/<id>), reloaded whenever a new event about the job arrives.
 */
import { ContextConsumer } from '@lit/context';
import { css, html, LitElement, type TemplateResult } from 'lit';
import { AUCTION_OPEN_KIND, AUCTION_RECORD_KIND, BID_COMMITMENT_KIND } from '../../auction/kinds.ts';
import { verifyOnRelay } from '../../auction/on-relay.ts';
import { type AuctionRecord, parseAuctionRecord } from '../../auction/record.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { parseFeedback } from '../../dvm/feedback.ts';
import { FEEDBACK_KIND, isJobResultKind } from '../../dvm/kinds.ts';
import type { JobDetail } from '../api-types.ts';
import { ApiController } from './api-controller.ts';
import { relayContext } from './context.ts';
import { renderMarkdown } from './markdown.ts';
import { RelaySubscriptionController } from './relay-subscription-controller.ts';
import { pageStyles } from './styles.ts';

const LABEL_KIND = 1985;

type Verification = { state: 'idle' | 'running' } | { state: 'done'; ok: boolean; problems: string[] };

export class TimmyJobPage extends LitElement {
  static override properties = { jobId: {}, verification: { state: true } };
  declare jobId: string;
  declare verification: Verification;

  private readonly relay = new ContextConsumer(this, { context: relayContext, subscribe: true });
  private readonly detail = new ApiController<JobDetail>(
    this,
    () => (this.jobId ? `/api/jobs/${encodeURIComponent(this.jobId)}` : undefined),
    { refreshMs: 10_000 },
  );
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;
  /** Everything that references the job: feedback, results, auction opens, assignments, labels. */
  private readonly about = new RelaySubscriptionController(this, {
    relay: () => this.relay.value,
    filters: () => (/^[0-9a-f]{64}$/.test(this.jobId) ? [{ '#e': [this.jobId] }] : undefined),
    onEvent: () => this.reloadSoon(),
  });
  /** The auctions' commitments and records. */
  private readonly auction = new RelaySubscriptionController(this, {
    relay: () => this.relay.value,
    filters: () => {
      const opens = this.opens().map((e) => e.id);
      return opens.length ? [{ kinds: [BID_COMMITMENT_KIND, AUCTION_RECORD_KIND], '#e': opens }] : undefined;
    },
    onEvent: () => this.reloadSoon(),
  });

  static override styles = [
    pageStyles,
    css`
      ol.life {
        list-style: none;
        padding: 0;
        margin: 0;
      }
      ol.life > li {
        border-left: 3px solid #0b57d0;
        padding: 0.25rem 0 0.75rem 1rem;
        margin-left: 0.5rem;
      }
      ol.life > li h2 {
        margin-top: 0;
      }
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 0.2rem 0.75rem;
        margin: 0;
      }
      dt {
        color: #3d424c;
      }
      dd {
        margin: 0;
        overflow-wrap: anywhere;
      }
      .verify {
        font-weight: 700;
      }
    `,
  ];

  constructor() {
    super();
    this.jobId = '';
    this.verification = { state: 'idle' };
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.reloadTimer);
  }

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('jobId')) this.verification = { state: 'idle' };
  }

  private reloadSoon(): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.detail.reload(), 150);
  }

  private ofKind(kind: number): NostrEvent[] {
    return this.about.events.filter((e) => e.kind === kind);
  }

  private opens(): NostrEvent[] {
    const coordinator = this.detail.value?.coordinator;
    return this.ofKind(AUCTION_OPEN_KIND).filter((e) => !coordinator || e.pubkey === coordinator);
  }

  private records(): AuctionRecord[] {
    return this.auction.events
      .filter((e) => e.kind === AUCTION_RECORD_KIND)
      .flatMap((e) => {
        try {
          return [parseAuctionRecord(e)];
        } catch {
          return [];
        }
      });
  }

  private async verify(): Promise<void> {
    const relay = this.relay.value;
    const coordinator = this.detail.value?.coordinator;
    if (!relay || !coordinator) return;
    this.verification = { state: 'running' };
    try {
      const v = await verifyOnRelay(relay, coordinator, this.jobId);
      this.verification = { state: 'done', ok: v.ok, problems: v.problems };
    } catch (err) {
      this.verification = {
        state: 'done',
        ok: false,
        problems: [err instanceof Error ? err.message : String(err)],
      };
    }
  }

  private renderRequest(d: JobDetail | undefined): TemplateResult {
    const request = d?.request;
    return html`<li>
      <h2>Request</h2>
      ${
        request
          ? html`<dl>
            <dt>Kind</dt>
            <dd>${request.kind}</dd>
            <dt>Customer</dt>
            <dd><timmy-npub pubkey=${request.pubkey}></timmy-npub></dd>
            <dt>Posted</dt>
            <dd><timmy-time at=${request.created_at}></timmy-time></dd>
            ${request.tags
              .filter((t) => t[0] === 'i')
              .map((t) => html`<dt>Input (${t[2] ?? 'text'})</dt><dd>${t[1] ?? ''}</dd>`)}
            ${request.tags.some((t) => t[0] === 'encrypted') ? html`<dt>Inputs</dt><dd>encrypted</dd>` : null}
          </dl>`
          : html`<p class="muted">Waiting for the job…</p>`
      }
    </li>`;
  }

  private renderAuction(): TemplateResult {
    const opens = this.opens();
    const commitments = this.auction.events.filter((e) => e.kind === BID_COMMITMENT_KIND);
    const records = this.records();
    const v = this.verification;
    return html`<li>
      <h2>Auction</h2>
      ${
        opens.length === 0
          ? html`<p class="muted">No auction yet.</p>`
          : html`<p>${opens.length} auction${opens.length > 1 ? 's' : ''} opened, ${commitments.length} sealed bid commitment${commitments.length === 1 ? '' : 's'}.</p>
            <ul>
              ${[...commitments]
                .reverse()
                .map(
                  (c) =>
                    html`<li>commitment from <timmy-npub pubkey=${c.pubkey} href=${`/agents/${c.pubkey}`}></timmy-npub> <timmy-time at=${c.created_at}></timmy-time></li>`,
                )}
            </ul>`
      }
      ${records.map(
        (r) => html`<div class="card">
          <strong>Record</strong> (${r.mechanism}): ${r.openings.length} opening${r.openings.length === 1 ? '' : 's'},
          ${r.ranked.length} valid bid${r.ranked.length === 1 ? '' : 's'}, ${r.invalid.length} invalid.
          ${
            r.winner
              ? html`Winner <timmy-npub pubkey=${r.winner.bidder} href=${`/agents/${r.winner.bidder}`}></timmy-npub> at
                <timmy-sats .msats=${r.priceMsats ?? r.winner.amountMsats}></timmy-sats>.`
              : html`No winner.`
          }
        </div>`,
      )}
      ${
        opens.length
          ? html`<div class="row">
            <button type="button" @click=${this.verify} ?disabled=${v.state === 'running' || records.length === 0}>
              Verify the auction in this browser
            </button>
            <span role="status" class="verify">
              ${v.state === 'running' ? 'verifying…' : null}
              ${v.state === 'done' && v.ok ? html`<timmy-state state="PASS"></timmy-state> the record matches the relay’s events` : null}
            </span>
          </div>
          ${
            v.state === 'done' && !v.ok
              ? html`<div class="error" role="alert"><strong>FAIL</strong><ul>${v.problems.map((p) => html`<li>${p}</li>`)}</ul></div>`
              : null
          }`
          : null
      }
    </li>`;
  }

  private renderPayment(d: JobDetail | undefined): TemplateResult {
    const p = d?.paymentDetail;
    const asked = this.ofKind(FEEDBACK_KIND).flatMap((e) => {
      try {
        const f = parseFeedback(e);
        return f.status === 'payment-required' ? [f] : [];
      } catch {
        return [];
      }
    });
    return html`<li>
      <h2>Payment</h2>
      ${
        p
          ? html`<dl>
            <dt>State</dt>
            <dd><timmy-state state=${p.refunded ? 'refunded' : p.state}></timmy-state></dd>
            <dt>Amount</dt>
            <dd><timmy-sats .msats=${p.amountMsats}></timmy-sats></dd>
            ${p.invoice ? html`<dt>Invoice</dt><dd><code>${p.invoice.slice(0, 40)}…</code></dd>` : null}
            ${p.paymentHash ? html`<dt>Hash</dt><dd><code>${p.paymentHash}</code></dd>` : null}
          </dl>`
          : asked.length
            ? html`<p>Invoice asked: <timmy-sats .msats=${asked[0]?.amountMsats}></timmy-sats></p>`
            : html`<p class="muted">No payment asked.</p>`
      }
    </li>`;
  }

  private renderFeedback(): TemplateResult {
    const feedback = [...this.ofKind(FEEDBACK_KIND)].reverse();
    return html`<li>
      <h2>Feedback</h2>
      ${feedback.length === 0 ? html`<p class="muted">None yet.</p>` : null}
      <ul>
        ${feedback.map((e) => {
          let status = 'unreadable';
          let message = '';
          try {
            const f = parseFeedback(e);
            status = f.status;
            message = f.message;
          } catch {
            // kept as unreadable
          }
          return html`<li>
            <timmy-state state=${status}></timmy-state> ${message}
            <span class="muted">by</span> <timmy-npub pubkey=${e.pubkey}></timmy-npub>
            <timmy-time at=${e.created_at}></timmy-time>
          </li>`;
        })}
      </ul>
    </li>`;
  }

  private renderResult(d: JobDetail | undefined): TemplateResult {
    const result = this.about.events.find((e) => isJobResultKind(e.kind)) ?? d?.result;
    const encrypted = result?.tags.some((t) => t[0] === 'encrypted');
    return html`<li>
      <h2>Result</h2>
      ${
        result
          ? html`<p class="muted">
              by <timmy-npub pubkey=${result.pubkey} href=${`/agents/${result.pubkey}`}></timmy-npub>
              <timmy-time at=${result.created_at}></timmy-time>
            </p>
            ${encrypted ? html`<p class="muted">Encrypted for the customer.</p>` : html`<div class="card">${renderMarkdown(result.content)}</div>`}`
          : html`<p class="muted">No result yet.</p>`
      }
    </li>`;
  }

  private renderLabels(): TemplateResult {
    const labels = this.ofKind(LABEL_KIND);
    return html`<li>
      <h2>Labels</h2>
      ${labels.length === 0 ? html`<p class="muted">No reputation label yet.</p>` : null}
      <ul>
        ${labels.map(
          (l) => html`<li>
            <strong>${l.tags.find((t) => t[0] === 'l')?.[1] ?? 'label'}</strong>
            <span class="muted">by</span> <timmy-npub pubkey=${l.pubkey}></timmy-npub>
            ${l.tags.find((t) => t[0] === 'p') ? html`<span class="muted">about</span> <timmy-npub pubkey=${l.tags.find((t) => t[0] === 'p')?.[1] ?? ''}></timmy-npub>` : null}
            ${l.content ? html`<div>${l.content}</div>` : null}
          </li>`,
        )}
      </ul>
    </li>`;
  }

  override render() {
    const d = this.detail.value;
    return html`<h1>Job <code>${this.jobId.slice(0, 16)}…</code></h1>
      ${
        d
          ? html`<p><timmy-state state=${d.state}></timmy-state> ${d.reason ? html`<span>${d.reason}</span>` : null}
        ${d.agent ? html` · agent <timmy-npub pubkey=${d.agent} href=${`/agents/${d.agent}`}></timmy-npub>` : null}</p>`
          : null
      }
      ${this.detail.error ? html`<p class="error" role="alert">${this.detail.error}</p>` : null}
      <ol class="life" aria-label="The job’s life">
        ${this.renderRequest(d)} ${this.renderAuction()} ${this.renderPayment(d)} ${this.renderFeedback()}
        ${this.renderResult(d)} ${this.renderLabels()}
      </ol>
      <h2>Timeline (the desk’s job log)</h2>
      <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">When</th><th scope="col">Entry</th><th scope="col">State</th><th scope="col">Detail</th></tr></thead>
          <tbody>
            ${(d?.timeline ?? []).map(
              (t) => html`<tr>
                <td><timmy-time at=${t.at}></timmy-time></td>
                <td>${t.type}</td>
                <td><timmy-state state=${t.state}></timmy-state></td>
                <td>${t.detail ?? ''}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>`;
  }
}
