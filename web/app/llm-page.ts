/** <timmy-llm-page>: the model router's providers in cascade order: circuit breaker, calls, latency, tokens. */
import { html, LitElement } from 'lit';
import type { LlmStatus } from '../api-types.ts';
import { ms } from './agents-page.ts';
import { ApiController } from './api-controller.ts';
import { pageStyles } from './styles.ts';

export class TimmyLlmPage extends LitElement {
  private readonly llm = new ApiController<LlmStatus>(this, () => '/api/llm', { refreshMs: 5000 });

  static override styles = pageStyles;

  override render() {
    const providers = this.llm.value?.providers ?? [];
    return html`<h1>LLM router</h1>
      ${this.llm.error ? html`<p class="error" role="alert">${this.llm.error}</p>` : null}
      ${this.llm.value && providers.length === 0 ? html`<p class="card">No language model is configured: agents serve the kinds that need none.</p>` : null}
      <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">#</th><th scope="col">Provider</th><th scope="col">Model</th><th scope="col">Breaker</th><th scope="col">Calls</th><th scope="col">Failures</th><th scope="col">p50 / p95</th><th scope="col">Tokens in / out</th></tr></thead>
          <tbody>
            ${providers.map(
              (p, i) => html`<tr><td>${i + 1}</td><td>${p.provider}</td><td>${p.model ?? '—'}</td>
                <td><timmy-state state=${p.circuit}></timmy-state></td><td>${p.calls}</td><td>${p.failures}</td>
                <td>${ms(p.latencyP50Ms)} / ${ms(p.latencyP95Ms)}</td><td>${p.tokensIn ?? '—'} / ${p.tokensOut ?? '—'}</td></tr>`,
            )}
          </tbody>
        </table>
      </div>`;
  }
}
