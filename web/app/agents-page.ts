/**
 * <timmy-agents-page>: the marketplace. Every agent the desk knows (here, elsewhere, peers): npub, NIP-05,
 * kinds and prices, alive or dead, latency p50/p95, success rate, sats earned, paid-but-undelivered and
 * delivered-but-unpaid counts, and its reputation score. Every profile field is shown as text.
 */
import { css, html, LitElement, type TemplateResult } from 'lit';
import type { AgentList, AgentStats } from '../api-types.ts';
import { ApiController } from './api-controller.ts';
import { pageStyles } from './styles.ts';

export function ms(v: number | undefined): string {
  if (v === undefined) return '—';
  return v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`;
}

export function percent(v: number | undefined): string {
  return v === undefined ? '—' : `${Math.round(v * 100)}%`;
}

export function kindsCell(a: AgentStats): TemplateResult {
  return html`${a.kinds.map(
    (k, i) =>
      html`${i ? ', ' : ''}${k.kind}${k.priceMsats !== undefined ? html` (<timmy-sats .msats=${k.priceMsats}></timmy-sats>)` : null}`,
  )}`;
}

export class TimmyAgentsPage extends LitElement {
  private readonly list = new ApiController<AgentList>(this, () => '/api/agents', { refreshMs: 10_000 });

  static override styles = [
    pageStyles,
    css`
      .name {
        font-weight: 600;
      }
      .about {
        font-size: 0.85rem;
        color: #4b5260;
        max-width: 24rem;
      }
      td.num {
        text-align: right;
        white-space: nowrap;
      }
    `,
  ];

  override render() {
    const agents = this.list.value?.agents ?? [];
    return html`<h1>Agents</h1>
      <p class="muted">The marketplace: every agent this desk works with, and how it has done.</p>
      ${this.list.error ? html`<p class="error" role="alert">${this.list.error}</p>` : null}
      ${this.list.value && agents.length === 0 ? html`<p class="muted">No agents yet.</p>` : null}
      <div class="table-wrap">
        <table>
          <caption class="sr-only">Agents</caption>
          <thead>
            <tr>
              <th scope="col">Agent</th><th scope="col">Kinds (price)</th><th scope="col">Status</th>
              <th scope="col">p50 / p95</th><th scope="col">Success</th><th scope="col">Earned</th>
              <th scope="col" title="paid but undelivered / delivered but unpaid">Unsettled</th><th scope="col">Score</th>
            </tr>
          </thead>
          <tbody>
            ${agents.map(
              (a) => html`<tr>
                <td>
                  <div class="name"><a href=${`/agents/${a.pubkey}`}>${a.displayName || a.name}</a></div>
                  <timmy-npub pubkey=${a.pubkey}></timmy-npub>
                  ${a.nip05 ? html`<div class="nip05">${a.nip05}</div>` : null}
                  <div class="about">${a.about}</div>
                  <div class="muted">${a.role} · ${a.where}</div>
                </td>
                <td>${kindsCell(a)}</td>
                <td><timmy-state state=${a.alive ? 'alive' : 'dead'}></timmy-state></td>
                <td class="num">${ms(a.latencyP50Ms)} / ${ms(a.latencyP95Ms)}</td>
                <td class="num">${percent(a.successRate)}<div class="muted">${a.jobsDone} done, ${a.jobsFailed} failed</div></td>
                <td class="num">${a.satsEarned.toLocaleString('en-US')} sats</td>
                <td class="num">${a.paidUndelivered} / ${a.deliveredUnpaid}</td>
                <td class="num"><strong>${Math.round(a.score)}</strong></td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>`;
  }
}
