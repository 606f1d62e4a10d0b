/**
 * Turning a streamed answer into a `Completion`, shared by the HTTP providers (ollama.ts, openai.ts): the text
 * pieces accumulated and streamed to the caller's `onToken`, the model the server names, the token counts it
 * reports (an estimate where it reports none), the latency, and the "answered with no text" check.
 */
import type { Clock } from '../core/clock.ts';
import { type Completion, type CompletionRequest, LlmResponseError } from './provider.ts';
import { estimatePromptTokens, estimateTokens } from './token-estimate.ts';

export interface CompletionBuilderOptions {
  /** The provider's name, in the Completion and in errors. */
  provider: string;
  /** The model named in the Completion unless the server names another. */
  model: string;
  request: CompletionRequest;
  /** The latency is measured from the builder's creation to `finish()`. */
  clock: Clock;
}

export class CompletionBuilder {
  private text = '';
  private model: string;
  private promptTokens: number | undefined;
  private completionTokens: number | undefined;
  private readonly started: number;

  constructor(private readonly options: CompletionBuilderOptions) {
    this.model = options.model;
    this.started = options.clock.now();
  }

  /** Adds a piece of the answer and hands it to the caller's `onToken`; an empty piece is skipped. */
  append(piece: string): void {
    if (!piece) return;
    this.text += piece;
    this.options.request.onToken?.(piece);
  }

  /** The model the server says answered; anything but a non-empty string is ignored. */
  setModel(model: unknown): void {
    if (typeof model === 'string' && model) this.model = model;
  }

  /** Token counts the server reported; a value that is not a count is ignored (and estimated at the end). */
  setUsage(promptTokens: unknown, completionTokens: unknown): void {
    const prompt = tokenCount(promptTokens);
    const completion = tokenCount(completionTokens);
    if (prompt !== undefined) this.promptTokens = prompt;
    if (completion !== undefined) this.completionTokens = completion;
  }

  /** The Completion; an LlmResponseError when the answer has no text. */
  finish(): Completion {
    const { provider, request, clock } = this.options;
    if (this.text === '') throw new LlmResponseError(provider, 'answered with no text');
    return {
      text: this.text,
      provider,
      model: this.model,
      promptTokens: this.promptTokens ?? estimatePromptTokens(request.messages),
      completionTokens: this.completionTokens ?? estimateTokens(this.text),
      latencyMs: clock.now() - this.started,
    };
  }
}

/** A token count from a server's JSON: a finite number ≥ 0, else undefined. */
export function tokenCount(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/** A piece of a server's answer quoted in an error message: at most 120 characters. */
export function clip(s: string): string {
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
}
