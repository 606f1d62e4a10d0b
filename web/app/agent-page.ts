/** <timmy-agent-page .pubkey>: one agent's profile, its reputation with the explanation, its recent jobs. */
import { html, LitElement } from 'lit';
import type { AgentProfile } from '../api-types.ts';
import { kindsCell, ms, percent } from './agents-page.ts';
import { ApiController } from './api-controller.ts';
import { pageStyles } from './styles.ts';

export class TimmyAgentPage extends LitElement {
  static override properties = { pubkey: {} };
  declare pubkey: string;

  private readonly profile = new ApiController<AgentProfile>(
    this,
    () => (this.pubkey ? `/api/agents/${encodeURIComponent(this.pubkey)}` : undefined),
    { refreshMs: 15_000 },
  );

  static override styles = pageStyles;

  constructor() {
    super();
    this.pubkey = '';
  }

  override render() {
    const p = this.profile.value;
    if (this.profile.error)
      return html`<h1>Agent</h1><p class="error" role="alert">${this.profile.error}</p>`;
    if (!p) return html`<h1>Agent</h1><p class="muted">Loading…</p>`;
    const a = p.agent;
    return html`<h1><timmy-identicon pubkey=${a.pubkey} size="32"></timmy-identicon> <span class="name">${a.displayName || a.name}</span></h1>
      <div class="card">
        <p><timmy-npub pubkey=${a.pubkey}></timmy-npub> ${a.nip05 ? html`· <span class="nip05">${a.nip05}</span>` : null}</p>
        <p class="about">${a.about}</p>
        <p class="muted">${a.role} · ${a.where} · <timmy-state state=${a.alive ? 'alive' : 'dead'}></timmy-state>
          ${a.lastBeatAt ? html`· last heartbeat <timmy-time at=${a.lastBeatAt}></timmy-time>` : null}</p>
        <p>Kinds: ${kindsCell(a)}</p>
        <p>Latency p50 ${ms(a.latencyP50Ms)}, p95 ${ms(a.latencyP95Ms)} · success ${percent(a.successRate)}
          (${a.jobsDone} done, ${a.jobsFailed} failed) · earned ${a.satsEarned.toLocaleString('en-US')} sats ·
          paid-undelivered ${a.paidUndelivered}, delivered-unpaid ${a.deliveredUnpaid}</p>
      </div>
      <h2>Reputation: ${Math.round(a.score)} / 100</h2>
      ${
        Object.keys(a.scores).length
          ? html`<p>Per kind: ${Object.entries(a.scores).map(([k, s], i) => html`${i ? ', ' : ''}${k}: ${Math.round(s)}`)}</p>`
          : null
      }
      <pre class="explanation">${p.explanationText}</pre>
      <h2>Recent jobs</h2>
      ${p.recentJobs.length === 0 ? html`<p class="muted">None yet.</p>` : null}
      <ul>
        ${p.recentJobs.map(
          (j) => html`<li><a href=${`/jobs/${j.id}`}><code>${j.id.slice(0, 12)}…</code></a> kind ${j.kind}
            <timmy-state state=${j.state}></timmy-state> <timmy-time at=${j.updatedAt}></timmy-time></li>`,
        )}
      </ul>`;
  }
}
