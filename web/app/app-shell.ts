/**
 * <timmy-app>: the dashboard's shell. A header with the navigation and the login button, the page of the
 * current path (client-side routing: web/app/router.ts), and the two contexts every page reads: the relay
 * connection (this origin's /relay, or the `relay-url` attribute) and the session.
 */
import { ContextProvider } from '@lit/context';
import { css, html, LitElement, type TemplateResult } from 'lit';
import { api } from './api.ts';
import { type RelayConnection, relayContext, sessionContext } from './context.ts';
import { Nip07Signer } from './nip07-signer.ts';
import { BrowserRelayConnection, ownRelayUrl } from './relay-connection.ts';
import { type Route, Router } from './router.ts';
import { READ_ONLY_HINT, Session } from './session.ts';
import { pageStyles } from './styles.ts';
import { loadSwarm } from './swarm-loader.ts';

const NAV: { href: string; label: string; pages: string[] }[] = [
  { href: '/chat', label: 'Chat', pages: ['chat'] },
  { href: '/jobs', label: 'Jobs', pages: ['jobs', 'job'] },
  { href: '/agents', label: 'Agents', pages: ['agents', 'agent'] },
  { href: '/swarm', label: 'Swarm', pages: ['swarm'] },
  { href: '/wallet', label: 'Wallet', pages: ['wallet'] },
  { href: '/approvals', label: 'Approvals', pages: ['approvals'] },
  { href: '/llm', label: 'LLM', pages: ['llm'] },
  { href: '/peers', label: 'Peers', pages: ['peers'] },
  { href: '/monitor', label: 'Monitor', pages: ['monitor'] },
];

const TITLES: Record<string, string> = {
  chat: 'Chat with Timmy',
  jobs: 'Jobs',
  job: 'Job',
  agents: 'Agents',
  agent: 'Agent',
  swarm: 'Swarm',
  wallet: 'Wallet',
  approvals: 'Approvals',
  llm: 'LLM router',
  peers: 'Peers',
  monitor: 'Monitor relays',
  'not-found': 'Not found',
};

export class TimmyApp extends LitElement {
  static override properties = {
    relayUrl: { attribute: 'relay-url' },
    route: { state: true },
    relayStatus: { state: true },
    swarmError: { state: true },
  };
  declare relayUrl: string;
  declare route: Route;
  declare relayStatus: string;
  declare swarmError: string;

  private readonly router = new Router();
  private readonly session = new Session(api);
  private relay: BrowserRelayConnection | undefined;
  private readonly relayProvider = new ContextProvider(this, { context: relayContext });
  private readonly sessionProvider = new ContextProvider(this, { context: sessionContext });
  private swarmLoading: Promise<unknown> | undefined;
  private firstRoute = true;

  static override styles = [
    pageStyles,
    css`
      :host {
        display: block;
        min-height: 100vh;
        background: #f6f7f9;
      }
      .skip {
        position: absolute;
        left: 0.5rem;
        top: -3rem;
        background: #fff;
        color: #0b57d0;
        padding: 0.5rem 0.75rem;
        border-radius: 6px;
        z-index: 10;
      }
      .skip:focus {
        top: 0.5rem;
      }
      header {
        background: #1a1d24;
        color: #fff;
        padding: 0.5rem 1rem;
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5rem 1rem;
      }
      .brand {
        font-weight: 700;
        color: #fff;
        text-decoration: none;
        font-size: 1.05rem;
        white-space: nowrap;
      }
      nav ul {
        display: flex;
        flex-wrap: wrap;
        gap: 0.15rem 0.25rem;
        list-style: none;
        margin: 0;
        padding: 0;
      }
      nav a {
        color: #e8eaef;
        text-decoration: none;
        padding: 0.3rem 0.55rem;
        border-radius: 6px;
        display: inline-block;
      }
      nav a:hover {
        background: #343a46;
      }
      nav a[aria-current='page'] {
        background: #fff;
        color: #1a1d24;
      }
      nav a:focus-visible,
      .brand:focus-visible,
      header button:focus-visible {
        outline: 3px solid #ffb454;
        outline-offset: 2px;
      }
      .who {
        margin-left: auto;
        display: flex;
        align-items: center;
        gap: 0.5rem;
        flex-wrap: wrap;
        font-size: 0.85rem;
      }
      .who .hint {
        color: #d5d8de;
      }
      .who timmy-npub {
        color: #fff;
        --npub-color: #fff;
      }
      .relay {
        font-size: 0.75rem;
        color: #d5d8de;
      }
      .relay.closed {
        color: #ffb4a8;
      }
      header button {
        background: #fff;
        color: #1a1d24;
        border-color: #fff;
      }
      main {
        padding: 1rem;
        max-width: 1200px;
        margin: 0 auto;
        outline: none;
      }
      .login-error {
        background: #fde2df;
        color: #8c1d13;
        padding: 0.4rem 1rem;
        overflow-wrap: anywhere;
      }
      @media (max-width: 480px) {
        header {
          padding: 0.5rem;
        }
        main {
          padding: 0.75rem 0.5rem;
        }
        .who {
          margin-left: 0;
        }
      }
    `,
  ];

  constructor() {
    super();
    this.relayUrl = '';
    this.route = this.router.route;
    this.relayStatus = 'connecting';
    this.swarmError = '';
    this.router.addEventListener('change', () => {
      this.route = this.router.route;
      this.afterNavigate();
    });
    this.session.addEventListener('change', () => {
      this.sessionProvider.setValue(this.session.state());
      this.requestUpdate();
    });
    this.sessionProvider.setValue(this.session.state());
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.router.start(this);
    this.openRelay();
    void this.session.refresh();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.router.stop(this);
    this.relay?.close();
    this.relay = undefined;
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('relayUrl') && this.relay && this.relay.url !== (this.relayUrl || ownRelayUrl())) {
      this.relay.close();
      this.relay = undefined;
      this.openRelay();
    }
  }

  private openRelay(): void {
    if (this.relay) return;
    const relay = new BrowserRelayConnection({
      url: this.relayUrl || ownRelayUrl(),
      authSigner: () => Nip07Signer.fromWindow(),
    });
    relay.addEventListener('status', () => {
      this.relayStatus = relay.status;
    });
    this.relay = relay;
    this.relayStatus = relay.status;
    this.relayProvider.setValue(relay as RelayConnection);
  }

  /** The current page's title, focus on the page (after a navigation, not on load). */
  private afterNavigate(): void {
    document.title = `${TITLES[this.route.page] ?? 'Timmy'} · Timmy Time`;
    if (this.firstRoute) {
      this.firstRoute = false;
      return;
    }
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('main')?.focus());
  }

  private skip(e: Event): void {
    e.preventDefault();
    this.renderRoot.querySelector<HTMLElement>('main')?.focus();
  }

  private async login(): Promise<void> {
    try {
      await this.session.login();
    } catch {
      // shown from session.error
    }
  }

  private async logout(): Promise<void> {
    try {
      await this.session.logout();
    } catch {
      // shown from session.error
    }
  }

  private renderWho(): TemplateResult {
    const { info, busy } = this.session;
    if (info.loggedIn && info.pubkey)
      return html`<span>${info.owner ? 'owner' : 'logged in'}</span>
        <timmy-npub pubkey=${info.pubkey}></timmy-npub>
        <button type="button" @click=${this.logout} ?disabled=${busy}>Log out</button>`;
    if (!this.session.canLogin) return html`<span class="hint">${READ_ONLY_HINT}</span>`;
    return html`<button type="button" @click=${this.login} ?disabled=${busy}>
      ${busy ? 'Logging in…' : 'Log in with Nostr'}
    </button>`;
  }

  private renderSwarm(): TemplateResult {
    if (!customElements.get('timmy-swarm')) {
      this.swarmLoading ??= loadSwarm().then(
        () => this.requestUpdate(),
        (err: unknown) => {
          this.swarmError = err instanceof Error ? err.message : String(err);
        },
      );
      return this.swarmError
        ? html`<p class="error" role="alert">The swarm view did not load: ${this.swarmError}</p>`
        : html`<p class="muted">Loading the swarm view…</p>`;
    }
    return html`<timmy-swarm></timmy-swarm>`;
  }

  private renderPage(): TemplateResult {
    const { page, param } = this.route;
    switch (page) {
      case 'chat':
        return html`<timmy-chat-page></timmy-chat-page>`;
      case 'jobs':
        return html`<timmy-jobs-page></timmy-jobs-page>`;
      case 'job':
        return html`<timmy-job-page .jobId=${param ?? ''}></timmy-job-page>`;
      case 'agents':
        return html`<timmy-agents-page></timmy-agents-page>`;
      case 'agent':
        return html`<timmy-agent-page .pubkey=${param ?? ''}></timmy-agent-page>`;
      case 'wallet':
        return html`<timmy-wallet-page></timmy-wallet-page>`;
      case 'approvals':
        return html`<timmy-approvals-page></timmy-approvals-page>`;
      case 'llm':
        return html`<timmy-llm-page></timmy-llm-page>`;
      case 'peers':
        return html`<timmy-peers-page></timmy-peers-page>`;
      case 'monitor':
        return html`<timmy-monitor-page></timmy-monitor-page>`;
      case 'swarm':
        return this.renderSwarm();
      default:
        return html`<h1>Not found</h1>
          <p>Nothing lives at <code>${this.route.path}</code>. <a href="/chat">Go to the chat</a>.</p>`;
    }
  }

  override render() {
    const current = this.route.page;
    return html`<a class="skip" href="#main" @click=${this.skip}>Skip to content</a>
      <header>
        <a class="brand" href="/chat">Timmy Time</a>
        <nav aria-label="Main">
          <ul>
            ${NAV.map(
              (n) =>
                html`<li>
                  <a href=${n.href} aria-current=${n.pages.includes(current) ? 'page' : 'false'}>${n.label}</a>
                </li>`,
            )}
          </ul>
        </nav>
        <div class="who">
          <span class="relay ${this.relayStatus}" role="status" title="the relay connection">
            relay: ${this.relayStatus}
          </span>
          ${this.renderWho()}
        </div>
      </header>
      ${this.session.error ? html`<div class="login-error" role="alert">${this.session.error}</div>` : null}
      <main id="main" tabindex="-1">${this.renderPage()}</main>`;
  }
}
