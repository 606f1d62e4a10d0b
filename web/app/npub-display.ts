/** <timmy-npub pubkey="hex" [href]>: an identicon and the shortened npub, with a copy button for the full one. */
import { css, html, LitElement } from 'lit';
import { npubEncode } from 'nostr-tools/nip19';

export function shortNpub(pubkey: string): string {
  const npub = toNpub(pubkey);
  return npub.length > 20 ? `${npub.slice(0, 10)}…${npub.slice(-6)}` : npub;
}

export function toNpub(pubkey: string): string {
  if (!/^[0-9a-f]{64}$/.test(pubkey)) return pubkey;
  try {
    return npubEncode(pubkey);
  } catch {
    return pubkey;
  }
}

export class TimmyNpub extends LitElement {
  static override properties = { pubkey: {}, href: {}, copied: { state: true } };
  declare pubkey: string;
  declare href: string;
  declare copied: boolean;

  static override styles = css`
    :host {
      display: inline-flex;
      align-items: center;
      gap: 0.3rem;
      font-family: ui-monospace, Menlo, Consolas, monospace;
      font-size: 0.88em;
      white-space: nowrap;
    }
    a {
      color: #0b57d0;
    }
    button {
      font: inherit;
      font-size: 0.8em;
      border: 1px solid #6b7280;
      background: #fff;
      color: #1a1d24;
      border-radius: 4px;
      padding: 0 0.3rem;
      cursor: pointer;
      min-width: 1.8rem;
      min-height: 1.5rem;
    }
    button:focus-visible,
    a:focus-visible {
      outline: 3px solid #b35c00;
      outline-offset: 2px;
    }
  `;

  constructor() {
    super();
    this.pubkey = '';
    this.href = '';
    this.copied = false;
  }

  private async copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(toNpub(this.pubkey));
      this.copied = true;
      setTimeout(() => {
        this.copied = false;
      }, 1500);
    } catch {
      this.copied = false;
    }
  }

  override render() {
    const full = toNpub(this.pubkey);
    const short = shortNpub(this.pubkey);
    return html`<timmy-identicon pubkey=${this.pubkey} size="18"></timmy-identicon>
      ${this.href ? html`<a href=${this.href} title=${full}>${short}</a>` : html`<span title=${full}>${short}</span>`}
      <button type="button" @click=${this.copy} aria-label=${`copy ${full}`} title="copy the full npub">
        ${this.copied ? 'copied' : 'copy'}
      </button>`;
  }
}
