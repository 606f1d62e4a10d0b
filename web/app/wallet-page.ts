/** <timmy-wallet-page>: the treasury (owners): balances, accounts, history, the withdrawals queue. */
import { ContextConsumer } from '@lit/context';
import { html, LitElement } from 'lit';
import type { WalletView } from '../api-types.ts';
import { ApiController } from './api-controller.ts';
import { sessionContext } from './context.ts';
import { ownerNotice } from './owner-notice.ts';
import { pageStyles } from './styles.ts';

export class TimmyWalletPage extends LitElement {
  private readonly session = new ContextConsumer(this, { context: sessionContext, subscribe: true });
  private readonly wallet = new ApiController<WalletView>(
    this,
    () => (this.session.value?.info.owner ? '/api/wallet' : undefined),
    { refreshMs: 10_000 },
  );

  static override styles = pageStyles;

  override render() {
    const notice = ownerNotice(this.session.value, 'see the treasury');
    if (notice) return html`<h1>Wallet</h1>${notice}`;
    const w = this.wallet.value;
    return html`<h1>Wallet</h1>
      ${this.wallet.error ? html`<p class="error" role="alert">${this.wallet.error}</p>` : null}
      ${w && !w.enabled ? html`<p class="card">Payments are not enabled on this instance.</p>` : null}
      ${
        w?.enabled
          ? html`<div class="card">
              <strong>Balance:</strong> <timmy-sats .msats=${w.balanceMsats}></timmy-sats>
              ${w.testSats ? html`<timmy-state state="test sats"></timmy-state> <span class="muted">(the embedded demo wallet: not real money)</span>` : null}
            </div>
            <h2>Accounts</h2>
            <div class="table-wrap"><table>
              <thead><tr><th scope="col">Account</th><th scope="col">Balance</th></tr></thead>
              <tbody>${(w.accounts ?? []).map((a) => html`<tr><td>${a.name}</td><td><timmy-sats .msats=${a.balanceMsats}></timmy-sats></td></tr>`)}</tbody>
            </table></div>
            <h2>Withdrawals</h2>
            ${(w.withdrawals ?? []).length === 0 ? html`<p class="muted">None.</p>` : null}
            <ul>${(w.withdrawals ?? []).map((x) => html`<li>#${x.id} <timmy-state state=${x.state}></timmy-state> <timmy-sats .msats=${x.amountMsats}></timmy-sats> <timmy-time at=${x.requestedAt}></timmy-time> ${x.reason ?? ''}</li>`)}</ul>
            <h2>History</h2>
            <div class="table-wrap"><table>
              <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Amount</th><th scope="col">Memo</th><th scope="col">Job</th></tr></thead>
              <tbody>${(w.history ?? []).map(
                (
                  h,
                ) => html`<tr><td><timmy-time at=${h.at}></timmy-time></td><td>${h.kind}</td><td><timmy-sats .msats=${h.amountMsats}></timmy-sats></td>
                  <td>${h.memo ?? ''}</td><td>${h.job ? html`<a href=${`/jobs/${h.job}`}><code>${h.job.slice(0, 10)}…</code></a>` : ''}</td></tr>`,
              )}</tbody>
            </table></div>`
          : null
      }`;
  }
}
