/** <timmy-sats msats="21000">: an amount in sats (sub-sat amounts keep their decimals), msats in the tooltip. */
import { html, LitElement } from 'lit';

export function formatSats(msats: number): string {
  const sats = msats / 1000;
  return `${sats.toLocaleString('en-US', { maximumFractionDigits: 3 })} sat${sats === 1 ? '' : 's'}`;
}

export class TimmySats extends LitElement {
  static override properties = { msats: { type: Number } };
  declare msats: number | undefined;

  constructor() {
    super();
    this.msats = undefined;
  }

  override render() {
    if (this.msats === undefined || Number.isNaN(this.msats)) return html`—`;
    return html`<span title=${`${this.msats} msats`}>${formatSats(this.msats)}</span>`;
  }
}
