/**
 * <timmy-talk>: push-to-talk with Timmy (docs/dashboard.md). Hold the button (mouse, touch, or Space/Enter)
 * and speak; the transcript forms as each pause is heard, and the answer is shown and spoken back sentence by
 * sentence. A job Timmy understood is handed to the chat page (`talk-job` event), which submits it as typed
 * jobs are. Disabled, saying why, when the server has no voice engines or nobody is logged in.
 * The host's `data-state` and `data-played` (sentences played) show where a press is, for people and tests.
 */
import { css, html, LitElement } from 'lit';
import type { VoiceAvailability } from '../api-types.ts';
import { api } from './api.ts';
import { pageStyles } from './styles.ts';
import { TalkClient, type TalkJobAction, type TalkMessage } from './talk-client.ts';

type TalkState = 'off' | 'idle' | 'listening' | 'thinking' | 'speaking' | 'error';

export class TimmyTalk extends LitElement {
  static override properties = {
    loggedIn: { type: Boolean, attribute: 'logged-in' },
    status: { state: true },
    talkState: { state: true },
    transcript: { state: true },
    final: { state: true },
    answer: { state: true },
    error: { state: true },
    played: { state: true },
  };
  declare loggedIn: boolean;
  declare status: VoiceAvailability | undefined;
  declare talkState: TalkState;
  declare transcript: string;
  declare final: boolean;
  declare answer: string[];
  declare error: string;
  declare played: number;

  private client: TalkClient | undefined;
  private pressing = false;

  static override styles = [
    pageStyles,
    css`
      .talk {
        display: flex;
        align-items: center;
        gap: 0.75rem;
        flex-wrap: wrap;
      }
      button.ptt {
        min-width: 9rem;
        touch-action: none;
        user-select: none;
      }
      button.ptt[aria-pressed='true'] {
        background: #a50e0e;
      }
      .transcript {
        font-style: italic;
      }
      .answer {
        border-left: 3px solid #0b57d0;
        padding-left: 0.75rem;
      }
    `,
  ];

  constructor() {
    super();
    this.loggedIn = false;
    this.talkState = 'off';
    this.transcript = '';
    this.final = false;
    this.answer = [];
    this.error = '';
    this.played = 0;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    api.get<VoiceAvailability>('/api/voice').then(
      (s) => {
        this.status = s;
        if (s.enabled) this.talkState = 'idle';
      },
      (err: unknown) => {
        this.error = `voice status unavailable: ${err instanceof Error ? err.message : String(err)}`;
      },
    );
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.client?.close();
    this.client = undefined;
  }

  override updated(): void {
    this.dataset.state = this.talkState;
    this.dataset.played = String(this.played);
  }

  /** Why the button is disabled, or '' when it is not. */
  private why(): string {
    if (!this.status) return 'checking whether voice works here…';
    if (!this.status.enabled)
      return `Voice is not installed on this instance. Install it with: ${this.status.install}`;
    if (!this.loggedIn) return 'Log in with your Nostr extension to talk to Timmy.';
    if (!navigator.mediaDevices?.getUserMedia)
      return 'This browser gives no microphone here (it needs https or localhost).';
    return '';
  }

  private async press(): Promise<void> {
    if (this.pressing || this.why() !== '') return;
    this.pressing = true;
    this.transcript = '';
    this.final = false;
    this.answer = [];
    this.error = '';
    this.played = 0;
    this.talkState = 'listening';
    this.client ??= new TalkClient({
      message: (m) => this.onMessage(m),
      played: (_i, state) => {
        if (state === 'ended') this.played++;
      },
      closed: (code, reason) => {
        this.client = undefined;
        if (code >= 4000 || code === 1009 || code === 1013) this.fail(reason || `closed (${code})`);
      },
    });
    try {
      await this.client.press();
      // Let go while the microphone was still opening: end at once.
      if (!this.pressing) await this.client.release();
    } catch (err) {
      this.pressing = false;
      this.fail(err instanceof Error ? err.message : String(err));
    }
  }

  private async release(): Promise<void> {
    if (!this.pressing) return;
    this.pressing = false;
    if (this.talkState === 'listening') this.talkState = 'thinking';
    await this.client?.release();
  }

  private fail(message: string): void {
    this.error = message;
    this.talkState = 'error';
  }

  private onMessage(m: TalkMessage): void {
    switch (m.type) {
      case 'partial':
        this.transcript = m.text;
        break;
      case 'final':
        this.transcript = m.text;
        this.final = true;
        break;
      case 'sentence':
        this.answer = [...this.answer, m.text];
        this.talkState = 'speaking';
        break;
      case 'action':
        this.dispatchEvent(
          new CustomEvent<TalkJobAction>('talk-job', { detail: m.action, bubbles: true, composed: true }),
        );
        break;
      case 'done':
        this.talkState = 'idle';
        break;
      case 'error':
        this.fail(m.code === 'aborted' ? 'stopped' : m.message);
        break;
      default:
        break;
    }
  }

  override render() {
    const why = this.why();
    const label =
      this.talkState === 'listening'
        ? 'Listening… release to send'
        : this.talkState === 'thinking'
          ? 'Thinking…'
          : 'Hold to talk';
    return html`<div class="card">
      <div class="talk">
        <button
          type="button"
          class="ptt"
          aria-pressed=${this.pressing ? 'true' : 'false'}
          ?disabled=${why !== ''}
          title=${why || 'Hold while you speak, release to send'}
          @pointerdown=${(e: PointerEvent) => {
            (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
            void this.press();
          }}
          @pointerup=${() => void this.release()}
          @pointercancel=${() => void this.release()}
          @keydown=${(e: KeyboardEvent) => {
            if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) {
              e.preventDefault();
              void this.press();
            }
          }}
          @keyup=${(e: KeyboardEvent) => {
            if (e.key === ' ' || e.key === 'Enter') void this.release();
          }}
        >
          ${label}
        </button>
        ${why ? html`<span class="muted" role="note">${why}</span>` : null}
      </div>
      ${
        this.transcript
          ? html`<p class="transcript" aria-live="polite"><span class="muted">${this.final ? 'You said:' : 'Hearing:'}</span> ${this.transcript}</p>`
          : null
      }
      ${
        this.answer.length > 0
          ? html`<div class="answer" aria-live="polite">
              <p>${this.answer.join(' ')}</p>
              <p class="muted" role="status">spoke ${this.played} of ${this.answer.length} sentences</p>
            </div>`
          : null
      }
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : null}
    </div>`;
  }
}
