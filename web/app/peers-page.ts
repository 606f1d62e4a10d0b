/** <timmy-peers-page>: federated instances: peer relays (owners add and remove them), their desks and agents. */
import { ContextConsumer } from '@lit/context';
import { html, LitElement } from 'lit';
import type { PeerList } from '../api-types.ts';
import { api } from './api.ts';
import { ApiController } from './api-controller.ts';
import { sessionContext } from './context.ts';
import { pageStyles } from './styles.ts';

export class TimmyPeersPage extends LitElement {
  static override properties = { message: { state: true }, url: { state: true } };
  declare message: string;
  declare url: string;

  private readonly session = new ContextConsumer(this, { context: sessionContext, subscribe: true });
  private readonly peers = new ApiController<PeerList>(this, () => '/api/peers', { refreshMs: 10_000 });

  static override styles = pageStyles;

  constructor() {
    super();
    this.message = '';
    this.url = '';
  }

  private async change(path: string, url: string, done: string): Promise<void> {
    try {
      this.peers.value = await api.post<PeerList>(path, { url });
      this.message = done;
      this.url = '';
    } catch (err) {
      this.message = `refused: ${err instanceof Error ? err.message : String(err)}`;
    }
    this.requestUpdate();
  }

  override render() {
    const p = this.peers.value;
    const owner = this.session.value?.info.owner === true;
    return html`<h1>Peers</h1>
      ${this.peers.error ? html`<p class="error" role="alert">${this.peers.error}</p>` : null}
      <p role="status">${this.message}</p>
      ${
        owner
          ? html`<form class="card row" @submit=${(e: Event) => {
              e.preventDefault();
              void this.change('/api/peers', this.url.trim(), `added ${this.url.trim()}`);
            }}>
            <label>Peer relay URL <input type="url" placeholder="wss://…" .value=${this.url} @input=${(
              e: Event,
            ) => {
              this.url = (e.target as HTMLInputElement).value;
            }} /></label>
            <button type="submit" ?disabled=${!/^wss?:\/\//.test(this.url.trim())}>Add peer</button>
          </form>`
          : html`<p class="muted">Owners can add and remove peer relays.</p>`
      }
      <h2>Peer relays</h2>
      ${p && p.relays.length === 0 ? html`<p class="muted">No peer relays.</p>` : null}
      <ul>
        ${(p?.relays ?? []).map(
          (
            r,
          ) => html`<li><code>${r.url}</code> <timmy-state state=${r.connected ? 'alive' : 'dead'}></timmy-state>
            ${r.added ? html`<span class="muted">added from the dashboard</span>` : html`<span class="muted">configured (federation.peers)</span>`}
            ${owner && r.added ? html`<button type="button" class="secondary" aria-label=${`remove ${r.url}`} @click=${() => this.change('/api/peers/remove', r.url, `removed ${r.url}`)}>Remove</button>` : null}</li>`,
        )}
      </ul>
      <h2>Desks</h2>
      ${p && p.desks.length === 0 ? html`<p class="muted">No desk found on the peer relays yet.</p>` : null}
      <ul>${(p?.desks ?? []).map((d) => html`<li>${d.name} <timmy-npub pubkey=${d.pubkey}></timmy-npub> on <code>${d.relay}</code>, ${d.agents} agents</li>`)}</ul>
      <h2>Their agents</h2>
      ${
        p && p.agents.length === 0
          ? html`<p class="muted">No agents announced by the peer desks.</p>`
          : html`<div class="table-wrap"><table>
        <thead><tr><th scope="col">Agent</th><th scope="col">Kinds</th><th scope="col">Status</th><th scope="col">On our roster</th><th scope="col">Score</th></tr></thead>
        <tbody>${(p?.agents ?? []).map(
          (
            a,
          ) => html`<tr><td>${a.name}<br /><timmy-npub pubkey=${a.pubkey} href=${`/agents/${a.pubkey}`}></timmy-npub></td><td>${a.kinds.join(', ')}</td>
            <td><timmy-state state=${a.alive ? 'alive' : 'dead'}></timmy-state></td><td>${a.onRoster ? 'yes' : 'no'}</td><td>${Math.round(a.score)}</td></tr>`,
        )}</tbody>
      </table></div>`
      }`;
  }
}
