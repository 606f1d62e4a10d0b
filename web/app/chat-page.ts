/**
 * <timmy-chat-page>: chat with Timmy. Each message is a NIP-90 job submitted through the customer library
 * (customer/job-client.ts) over the page's relay connection, signed by the NIP-07 extension; its feedback
 * streams in as it arrives, payment requests are paid through customer/payer.ts from the demo wallet or a
 * pasted NWC connection, the result is rendered from markdown (markdown.ts), and the agent can be rated
 * (a NIP-32 label signed through NIP-07).
 */
import { ContextConsumer } from '@lit/context';
import { css, html, LitElement, type TemplateResult } from 'lit';
import { silentLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { JobClient, type JobOutcome } from '../../customer/job-client.ts';
import { JobPayer, type PaymentReport } from '../../customer/payer.ts';
import type { JobFeedback } from '../../dvm/feedback.ts';
import { NwcWallet } from '../../payments/nwc-wallet.ts';
import { formatMsats, type Wallet } from '../../payments/wallet.ts';
import type { DemoWallet } from '../api-types.ts';
import type { InstanceView } from '../instance-view.ts';
import { api } from './api.ts';
import { ApiController } from './api-controller.ts';
import { relayContext, sessionContext } from './context.ts';
import { renderMarkdown } from './markdown.ts';
import { Nip07Signer } from './nip07-signer.ts';
import { pageStyles } from './styles.ts';
import type { TalkJobAction } from './talk-client.ts';

interface Turn {
  prompt: string;
  /** Spoken to the talk button (the prompt is then what Timmy understood). */
  spoken?: boolean;
  kind: number;
  request?: NostrEvent;
  feedback: { event: NostrEvent; parsed: JobFeedback | undefined }[];
  lines: string[];
  outcome?: JobOutcome;
  error?: string;
  rated?: string;
  running: boolean;
}

const KIND_NAMES: Record<number, string> = {
  5050: 'text generation (5050)',
  5001: 'summary (5001)',
  5000: 'text extraction (5000)',
  5002: 'translation (5002)',
  5700: 'echo (5700)',
};

/** The kinds the network serves, best first: 5050 when a model is configured, else echo or summary. */
export function chatKinds(status: InstanceView | undefined): number[] {
  if (!status) return [];
  const served = new Set<number>();
  for (const a of status.agents) if (a.role !== 'coordinator') for (const k of a.kinds) served.add(k);
  for (const p of status.peers) for (const k of p.kinds) served.add(k);
  const preferred = status.llm.length > 0 ? [5050, 5700, 5001] : [5700, 5001, 5050];
  return [
    ...preferred.filter((k) => served.has(k)),
    ...[...served].filter((k) => !preferred.includes(k)).sort(),
  ];
}

export class TimmyChatPage extends LitElement {
  static override properties = {
    prompt: { state: true },
    kind: { state: true },
    walletChoice: { state: true },
    nwcUrl: { state: true },
    maxSats: { state: true },
  };
  declare prompt: string;
  declare kind: number;
  declare walletChoice: 'demo' | 'nwc' | 'none';
  declare nwcUrl: string;
  declare maxSats: number;

  private readonly relay = new ContextConsumer(this, { context: relayContext, subscribe: true });
  private readonly session = new ContextConsumer(this, { context: sessionContext, subscribe: true });
  private readonly status = new ApiController<InstanceView>(this, () => '/api/status');
  private readonly turns: Turn[] = [];
  private demo: Wallet | undefined;

  static override styles = [
    pageStyles,
    css`
      form {
        display: grid;
        gap: 0.6rem;
      }
      textarea {
        width: 100%;
        min-height: 5rem;
      }
      .turn .prompt {
        font-weight: 600;
        white-space: pre-wrap;
      }
      .feedback {
        font-size: 0.85rem;
        margin: 0.3rem 0;
        padding-left: 1rem;
      }
      .result {
        border-left: 3px solid #0b57d0;
        padding-left: 0.75rem;
      }
      fieldset {
        border: 1px solid #d5d8de;
        border-radius: 6px;
        padding: 0.4rem 0.75rem;
      }
      fieldset label {
        flex-direction: row;
        align-items: center;
        gap: 0.35rem;
        font-size: 0.9rem;
        color: inherit;
      }
    `,
  ];

  constructor() {
    super();
    this.prompt = '';
    this.kind = 0;
    this.walletChoice = 'demo';
    this.nwcUrl = '';
    this.maxSats = 100;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.demo?.close();
    this.demo = undefined;
  }

  private desks(): Set<string> | undefined {
    const status = this.status.value;
    const desk = status?.agents.find((a) => a.role === 'coordinator')?.pubkey;
    return desk ? new Set([desk]) : undefined;
  }

  private async wallet(): Promise<Wallet | undefined> {
    if (this.walletChoice === 'none') return undefined;
    if (this.walletChoice === 'nwc') return new NwcWallet({ url: this.nwcUrl.trim(), logger: silentLogger });
    if (!this.demo) {
      const demo = await api.get<DemoWallet>('/api/demo-wallet');
      this.demo = new NwcWallet({ url: demo.nwcUrl, logger: silentLogger });
    }
    return this.demo;
  }

  private async submit(e: Event): Promise<void> {
    e.preventDefault();
    const prompt = this.prompt.trim();
    const kind = this.kind || chatKinds(this.status.value)[0] || 5050;
    if (!prompt) return;
    this.prompt = '';
    await this.send({ prompt, kind, feedback: [], lines: [], running: true }, [
      { data: prompt, type: 'text' },
    ]);
  }

  /** A job the talk button understood ("summarize example.com"), submitted as a typed one is. */
  private onTalkJob(e: CustomEvent<TalkJobAction>): void {
    const a = e.detail;
    const shown = `${a.label}: ${a.input.data}${a.params?.language ? ` → ${a.params.language}` : ''}`;
    void this.send(
      { prompt: shown, kind: a.kind, spoken: true, feedback: [], lines: [], running: true },
      [a.input],
      a.params,
    );
  }

  private async send(
    turn: Turn,
    inputs: { data: string; type: 'text' | 'url' }[],
    params?: Record<string, string>,
  ): Promise<void> {
    const relay = this.relay.value;
    const kind = turn.kind;
    this.turns.unshift(turn);
    const update = (): void => this.requestUpdate();
    try {
      const signer = Nip07Signer.fromWindow();
      if (!signer) throw new Error('install a NIP-07 extension to send jobs (read-only without one)');
      if (!relay) throw new Error('no relay connection');
      const wallet = await this.wallet();
      const budgetMsats = Math.max(0, Math.round(this.maxSats * 1000));
      const payer = new JobPayer({
        wallet,
        budgetMsats,
        budgetName: 'the chat’s max pay of',
        payees: this.desks(),
        noWallet: 'no wallet chosen (pick the demo wallet or paste an NWC connection)',
        say: (line) => {
          turn.lines.push(line);
          update();
        },
      });
      const client = new JobClient({ relay, signer });
      const request = await client.sign({
        kind,
        inputs,
        ...(params ? { params } : {}),
        bidMsats: budgetMsats,
      });
      turn.request = request;
      update();
      turn.outcome = await client.follow(
        request,
        {
          timeoutMs: 180_000,
          settleMs: 5000,
          payer,
          onFeedback: (event, parsed) => {
            turn.feedback.push({ event, parsed });
            update();
          },
        },
        true,
      );
      // A payment still held in escrow is shown again when the wallet answers.
      for (const p of turn.outcome.payments) p.outcome?.then(update, update);
      if (turn.outcome.error) turn.error = turn.outcome.error;
      else if (turn.outcome.timedOut)
        turn.error = 'no result in time (the job may still finish: see its page)';
    } catch (err) {
      turn.error = err instanceof Error ? err.message : String(err);
    } finally {
      turn.running = false;
      update();
    }
  }

  private async rate(turn: Turn, quality: number): Promise<void> {
    const relay = this.relay.value;
    const signer = Nip07Signer.fromWindow();
    if (!turn.outcome || !relay || !signer) return;
    try {
      const label = await new JobClient({ relay, signer }).rate(turn.outcome, { quality });
      turn.rated = label ? `rated (label ${label.id.slice(0, 8)}…)` : 'nothing to rate';
    } catch (err) {
      turn.rated = `rating failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    this.requestUpdate();
  }

  private renderTurn(t: Turn): TemplateResult {
    return html`<article class="card turn" aria-live="polite">
      <div class="prompt">${t.spoken ? html`<span class="muted">(spoken) </span>` : null}${t.prompt}</div>
      <div class="muted">
        kind ${t.kind}
        ${t.request ? html` · <a href=${`/jobs/${t.request.id}`}>follow this job’s life</a>` : null}
        ${t.running ? html` · <span role="status">working…</span>` : null}
      </div>
      <ul class="feedback">
        ${t.feedback.map(
          ({ event, parsed }) =>
            html`<li>
              <timmy-state state=${parsed?.status ?? 'unreadable'}></timmy-state>
              ${parsed?.amountMsats !== undefined ? html`<timmy-sats msats=${parsed.amountMsats}></timmy-sats>` : null}
              ${parsed?.message ?? ''} <span class="muted">from</span>
              <timmy-npub pubkey=${event.pubkey}></timmy-npub>
            </li>`,
        )}
        ${t.lines.map((l) => html`<li class="muted">${l}</li>`)}
        ${t.outcome?.payments.map((p) => html`<li class="payment">${paymentLine(p)}</li>`)}
      </ul>
      ${
        t.outcome?.content !== undefined
          ? html`<div class="result">${renderMarkdown(t.outcome.content)}</div>
            <div class="row">
              ${
                t.rated
                  ? html`<span class="muted">${t.rated}</span>`
                  : html`<button type="button" class="secondary" @click=${() => this.rate(t, 1)}>Good answer</button>
                    <button type="button" class="secondary" @click=${() => this.rate(t, 0)}>Poor answer</button>`
              }
            </div>`
          : null
      }
      ${t.error ? html`<p class="error" role="alert">${t.error}</p>` : null}
    </article>`;
  }

  override render() {
    const kinds = chatKinds(this.status.value);
    const kind = this.kind || kinds[0] || 0;
    const canSign = this.session.value?.canLogin ?? Nip07Signer.fromWindow() !== undefined;
    const loggedIn = this.session.value?.info.loggedIn === true;
    return html`<h1>Chat with Timmy</h1>
      <timmy-talk ?logged-in=${loggedIn} @talk-job=${this.onTalkJob}></timmy-talk>
      <form class="card" @submit=${this.submit}>
        <label for="prompt">Your message</label>
        <textarea
          id="prompt"
          .value=${this.prompt}
          @input=${(e: Event) => {
            this.prompt = (e.target as HTMLTextAreaElement).value;
          }}
          placeholder="Ask Timmy something…"
        ></textarea>
        <div class="row">
          <label
            >Job kind
            <select
              @change=${(e: Event) => {
                this.kind = Number((e.target as HTMLSelectElement).value);
              }}
            >
              ${kinds.length === 0 ? html`<option value="5050">text generation (5050)</option>` : null}
              ${kinds.map(
                (k) =>
                  html`<option value=${k} ?selected=${k === kind}>${KIND_NAMES[k] ?? `kind ${k}`}</option>`,
              )}
            </select>
          </label>
          <label
            >Max pay (sats)
            <input
              type="number"
              min="0"
              .value=${String(this.maxSats)}
              @input=${(e: Event) => {
                this.maxSats = Number((e.target as HTMLInputElement).value);
              }}
            />
          </label>
        </div>
        <fieldset>
          <legend>Pay with</legend>
          <div class="row">
            ${(['demo', 'nwc', 'none'] as const).map(
              (c) => html`<label
                ><input
                  type="radio"
                  name="wallet"
                  value=${c}
                  .checked=${this.walletChoice === c}
                  @change=${() => {
                    this.walletChoice = c;
                  }}
                />${c === 'demo' ? 'the demo wallet (test sats)' : c === 'nwc' ? 'my wallet (NWC)' : 'no wallet'}</label
              >`,
            )}
          </div>
          ${
            this.walletChoice === 'demo' && !loggedIn
              ? html`<p class="muted">The demo wallet (test sats) is for logged-in users: log in with your extension, or paste an NWC connection.</p>`
              : null
          }
          ${
            this.walletChoice === 'nwc'
              ? html`<label
                >NWC connection (nostr+walletconnect://…, kept in this page only)
                <input
                  type="password"
                  autocomplete="off"
                  .value=${this.nwcUrl}
                  @input=${(e: Event) => {
                    this.nwcUrl = (e.target as HTMLInputElement).value;
                  }}
              /></label>`
              : null
          }
        </fieldset>
        <div class="row">
          <button type="submit" ?disabled=${!canSign || this.prompt.trim() === ''}>Send</button>
          ${canSign ? null : html`<span class="muted">read-only: install a NIP-07 extension to send jobs</span>`}
        </div>
        ${this.status.error ? html`<p class="error">${this.status.error}</p>` : null}
      </form>
      ${this.turns.map((t) => this.renderTurn(t))}`;
  }
}

/** A payment of this job as the customer's wallet last told it. */
function paymentLine(p: PaymentReport): string {
  const sats = formatMsats(p.amountMsats);
  switch (p.state) {
    case 'paid':
      return `paid ${sats}`;
    case 'in-flight':
      return `${sats} held in escrow: settled when the job is delivered, refunded if it fails${
        p.detail ? ` (${p.detail})` : ''
      }`;
    case 'refunded':
      return `${sats} refunded`;
    case 'failed':
      return `payment of ${sats} failed: ${p.detail}`;
    case 'refused':
      return `not paid (${sats}): ${p.detail}`;
  }
}
