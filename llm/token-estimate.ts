/**
 * Approximate token counts for when a server does not report them: about four characters a token for
 * English text (the usual rule of thumb for BPE vocabularies), at least one token for any non-empty text.
 */
import type { ChatMessage } from './provider.ts';

export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4));
}

/** Message texts plus a few tokens per message for the role markers of a chat template. */
export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce((n, m) => n + estimateTokens(m.content) + 4, 0);
}
