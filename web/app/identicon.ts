/**
 * <timmy-identicon pubkey="hex">: an avatar drawn here from the pubkey (a symmetric 5x5 pattern and a hue
 * from its bytes), never a profile's picture URL (no remote images).
 */
import { css, html, LitElement, svg } from 'lit';

export function identiconCells(pubkey: string): { hue: number; cells: boolean[] } {
  const hex = /^[0-9a-f]+$/i.test(pubkey) && pubkey.length >= 32 ? pubkey.toLowerCase() : '0'.repeat(64);
  const hue = Math.round((Number.parseInt(hex.slice(0, 4), 16) / 0xffff) * 360);
  const cells: boolean[] = [];
  for (let row = 0; row < 5; row++)
    for (let col = 0; col < 5; col++) {
      const c = col < 3 ? col : 4 - col;
      const nibble = Number.parseInt(hex[4 + row * 3 + c] ?? '0', 16);
      cells.push(nibble % 2 === 0);
    }
  return { hue, cells };
}

export class TimmyIdenticon extends LitElement {
  static override properties = { pubkey: {}, size: { type: Number } };
  declare pubkey: string;
  declare size: number;

  static override styles = css`
    :host {
      display: inline-block;
      line-height: 0;
      vertical-align: middle;
    }
    svg {
      border-radius: 4px;
    }
  `;

  constructor() {
    super();
    this.pubkey = '';
    this.size = 24;
  }

  override render() {
    const { hue, cells } = identiconCells(this.pubkey);
    return html`<svg width=${this.size} height=${this.size} viewBox="0 0 5 5" aria-hidden="true">
      <rect width="5" height="5" fill=${`hsl(${hue} 40% 92%)`}></rect>
      ${cells.map((on, i) =>
        on
          ? svg`<rect x=${i % 5} y=${Math.floor(i / 5)} width="1" height="1" fill=${`hsl(${hue} 60% 35%)`}></rect>`
          : null,
      )}
    </svg>`;
  }
}
