/** <timmy-time at="unix seconds or ms">: "3 min ago", the exact time in its tooltip; refreshed every 15 s. */
import { html, LitElement } from 'lit';

export function relativeTime(atMs: number, nowMs = Date.now()): string {
  const s = Math.round((nowMs - atMs) / 1000);
  const abs = Math.abs(s);
  const suffix = s >= 0 ? 'ago' : 'from now';
  if (abs < 5) return 'just now';
  if (abs < 60) return `${abs} s ${suffix}`;
  if (abs < 3600) return `${Math.floor(abs / 60)} min ${suffix}`;
  if (abs < 86400) return `${Math.floor(abs / 3600)} h ${suffix}`;
  return `${Math.floor(abs / 86400)} d ${suffix}`;
}

/** Unix seconds or ms (values below 10^12 are seconds) → ms. */
export function toMs(at: number): number {
  return at < 1e12 ? at * 1000 : at;
}

export class TimmyTime extends LitElement {
  static override properties = { at: { type: Number } };
  declare at: number;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.at = 0;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.timer = setInterval(() => this.requestUpdate(), 15_000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.timer);
  }

  override render() {
    if (!this.at) return html`—`;
    const ms = toMs(this.at);
    const iso = new Date(ms).toISOString();
    return html`<time datetime=${iso} title=${iso}>${relativeTime(ms)}</time>`;
  }
}
