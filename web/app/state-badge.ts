/** <timmy-state state="...">: a job, payment or liveness state as a coloured badge (text, AA contrast). */
import { css, html, LitElement } from 'lit';

const TONES: Record<string, string> = {
  completed: 'good',
  settled: 'good',
  paid: 'good',
  alive: 'good',
  closed: 'good',
  approved: 'good',
  PASS: 'good',
  failed: 'bad',
  error: 'bad',
  rejected: 'bad',
  dead: 'bad',
  expired: 'bad',
  open: 'bad',
  refunded: 'warn',
  held: 'warn',
  'payment-required': 'warn',
  invoiced: 'warn',
  pending: 'warn',
  'half-open': 'warn',
  'awaiting-approval': 'warn',
};

export class TimmyState extends LitElement {
  static override properties = { state: {} };
  declare state: string;

  static override styles = css`
    span {
      display: inline-block;
      padding: 0 0.45rem;
      border-radius: 999px;
      font-size: 0.8rem;
      font-weight: 600;
      background: #e7eaf0;
      color: #1f2a44;
      white-space: nowrap;
    }
    .good {
      background: #dcf3e4;
      color: #0f5c2e;
    }
    .bad {
      background: #fde2df;
      color: #8c1d13;
    }
    .warn {
      background: #fff0d1;
      color: #6b4200;
    }
  `;

  constructor() {
    super();
    this.state = '';
  }

  override render() {
    return html`<span class=${TONES[this.state] ?? 'plain'}>${this.state || '—'}</span>`;
  }
}
