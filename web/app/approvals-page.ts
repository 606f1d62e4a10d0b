/**
 * <timmy-approvals-page>: jobs held for approval and withdrawals waiting (owners approve or reject them);
 * anyone else sees why they cannot.
 */
import { ContextConsumer } from '@lit/context';
import { html, LitElement } from 'lit';
import type { Approvals } from '../api-types.ts';
import { api } from './api.ts';
import { ApiController } from './api-controller.ts';
import { sessionContext } from './context.ts';
import { ownerNotice } from './owner-notice.ts';
import { pageStyles } from './styles.ts';

export class TimmyApprovalsPage extends LitElement {
  static override properties = { message: { state: true }, busy: { state: true } };
  declare message: string;
  declare busy: boolean;

  private readonly session = new ContextConsumer(this, { context: sessionContext, subscribe: true });
  private readonly approvals = new ApiController<Approvals>(
    this,
    () => (this.session.value?.info.owner ? '/api/approvals' : undefined),
    { refreshMs: 5000 },
  );

  static override styles = pageStyles;

  constructor() {
    super();
    this.message = '';
    this.busy = false;
  }

  private async act(path: string, body: Record<string, string>, done: string): Promise<void> {
    this.busy = true;
    try {
      await api.post(path, body);
      this.message = done;
    } catch (err) {
      this.message = `refused: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      this.busy = false;
      await this.approvals.reload();
    }
  }

  private reason(): string {
    return (this.renderRoot.querySelector<HTMLInputElement>('#reason')?.value ?? '').trim();
  }

  override render() {
    const notice = ownerNotice(this.session.value, 'approve or reject jobs and withdrawals');
    if (notice) return html`<h1>Approvals</h1>${notice}`;
    const a = this.approvals.value;
    return html`<h1>Approvals</h1>
      ${this.approvals.error ? html`<p class="error" role="alert">${this.approvals.error}</p>` : null}
      <p role="status">${this.message}</p>
      <label>Reason for a rejection (optional) <input id="reason" /></label>
      <h2>Jobs held for approval</h2>
      ${a && a.jobs.length === 0 ? html`<p class="muted">No job waits.</p>` : null}
      <ul>
        ${(a?.jobs ?? []).map(
          (j) => html`<li class="card">
            <a href=${`/jobs/${j.id}`}><code>${j.id.slice(0, 12)}…</code></a> kind ${j.kind} from
            <timmy-npub pubkey=${j.customer}></timmy-npub> <timmy-time at=${j.createdAt}></timmy-time>
            <div class="row">
              <button type="button" ?disabled=${this.busy} aria-label=${`approve job ${j.id.slice(0, 12)}`}
                @click=${() => this.act(`/api/jobs/${j.id}/approve`, {}, `job ${j.id.slice(0, 12)}… approved`)}>Approve</button>
              <button type="button" class="danger" ?disabled=${this.busy} aria-label=${`reject job ${j.id.slice(0, 12)}`}
                @click=${() => this.act(`/api/jobs/${j.id}/reject`, { reason: this.reason() }, `job ${j.id.slice(0, 12)}… rejected`)}>Reject</button>
            </div>
          </li>`,
        )}
      </ul>
      <h2>Withdrawals</h2>
      ${a && a.withdrawals.length === 0 ? html`<p class="muted">No withdrawal waits.</p>` : null}
      <ul>
        ${(a?.withdrawals ?? []).map(
          (w) => html`<li class="card">
            #${w.id} <timmy-sats .msats=${w.amountMsats}></timmy-sats> <timmy-state state=${w.state}></timmy-state>
            <timmy-time at=${w.requestedAt}></timmy-time> <code>${w.invoice.slice(0, 32)}…</code>
            <div class="row">
              <button type="button" ?disabled=${this.busy} aria-label=${`approve withdrawal ${w.id}`}
                @click=${() => this.act(`/api/withdrawals/${w.id}/approve`, {}, `withdrawal #${w.id} approved`)}>Approve</button>
              <button type="button" class="danger" ?disabled=${this.busy} aria-label=${`reject withdrawal ${w.id}`}
                @click=${() => this.act(`/api/withdrawals/${w.id}/reject`, { reason: this.reason() }, `withdrawal #${w.id} rejected`)}>Reject</button>
            </div>
          </li>`,
        )}
      </ul>`;
  }
}
