/**
 * The answering side of the voice pipeline: "Timmy", as the pipeline sees it. The composition root implements
 * it against the running instance (cli/compose-voice.ts); tests script it. An answer is text, whole or
 * streamed in pieces (a model's tokens), and may carry an action for the client (the dashboard submits a job
 * through its own chat flow, signed by the person's NIP-07 extension and paid from their wallet).
 */
import type { Intent, JobIntent } from './intents.ts';

export interface VoiceJobAction {
  type: 'submit-job';
  kind: number;
  label: string;
  input: { data: string; type: 'url' | 'text' };
  params?: Record<string, string>;
}

export type VoiceAction = VoiceJobAction;

export interface TimmyReply {
  /** What Timmy says: whole, or in pieces as they are made (spoken sentence by sentence as they complete). */
  text: string | AsyncIterable<string>;
  action?: VoiceAction;
}

export interface Timmy {
  status(signal: AbortSignal): Promise<TimmyReply>;
  balance(signal: AbortSignal): Promise<TimmyReply>;
  /** Approves `job` (an id or its start), or the job waiting longest for approval. */
  approve(job: string | undefined, signal: AbortSignal): Promise<TimmyReply>;
  submit(job: JobIntent, signal: AbortSignal): Promise<TimmyReply>;
  ask(question: string, signal: AbortSignal): Promise<TimmyReply>;
}

/** What nothing heard is answered. */
export const NOTHING_HEARD = 'Sorry, I did not hear anything. Hold the button while you speak.';

/** The intent handed to the one `Timmy` method that answers it. */
export function answerIntent(timmy: Timmy, intent: Intent, signal: AbortSignal): Promise<TimmyReply> {
  switch (intent.type) {
    case 'status':
      return timmy.status(signal);
    case 'balance':
      return timmy.balance(signal);
    case 'approve':
      return timmy.approve(intent.job, signal);
    case 'submit':
      return timmy.submit(intent, signal);
    case 'ask':
      return timmy.ask(intent.question, signal);
    case 'none':
      return Promise.resolve({ text: NOTHING_HEARD });
  }
}

/** A job intent as the action a client carries out. */
export function jobAction(job: JobIntent): VoiceJobAction {
  return {
    type: 'submit-job',
    kind: job.kind,
    label: job.label,
    input: job.input,
    ...(job.params ? { params: job.params } : {}),
  };
}
