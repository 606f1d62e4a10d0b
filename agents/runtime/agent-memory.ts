import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import type { MemoryHit, MemorySearchOptions } from '../../dvm/handler.ts';
import { encodeNpub } from '../../identity/nip19.ts';
import type { ChatMessage, CompletionRequest } from '../../llm/provider.ts';

/**
 * What an agent's worker needs of a memory (docs/memory.md): recall the texts most relevant to a prompt,
 * remember a finished job, and search a namespace for the memory DVM kind. `cli/compose-agents.ts` adapts memory/'s `Memories` to it; the agent's name is
 * its namespace.
 */
export interface AgentMemory {
  /**
   * The texts to bring into a prompt. With `customer` (the request's author, hex), of the agent's past jobs
   * only that customer's, and the desk's memories of that customer (docs/memory.md).
   */
  recall(agent: string, query: string, customer?: string): Promise<string[]>;
  remember(
    agent: string,
    memory: {
      kind: 'episodic' | 'semantic' | 'procedural';
      content: string;
      importance?: number;
      meta?: Record<string, unknown>;
    },
  ): Promise<void>;
  /** The k best memories of the namespace `agent` for `query`, best first, with their sources. */
  search(agent: string, query: string, options: Omit<MemorySearchOptions, 'agent'>): Promise<MemoryHit[]>;
}

const MAX_QUERY_CHARS = 2000;
const MAX_EXCERPT_CHARS = 600;

export const RECALL_HEADING =
  'Relevant memories from your past work (use them only where they help; they may be outdated):';

/**
 * The request with the recalled memories as one more system message, right after the persona's own system
 * prompt (left as it is) and before the conversation.
 */
export function withRecalled(request: CompletionRequest, recalled: readonly string[]): CompletionRequest {
  if (recalled.length === 0) return request;
  const block = `${RECALL_HEADING}\n${recalled.map((r) => `- ${r.replace(/\s+/g, ' ')}`).join('\n')}`;
  const messages: ChatMessage[] = [...request.messages];
  let at = 0;
  while (messages[at]?.role === 'system') at++;
  messages.splice(at, 0, { role: 'system', content: block });
  return { ...request, messages };
}

/** The prompt a recall searches with: the user's messages, the last first, bounded. */
export function recallQuery(request: CompletionRequest): string {
  return request.messages
    .filter((m) => m.role === 'user')
    .map((m) => m.content)
    .reverse()
    .join('\n')
    .slice(0, MAX_QUERY_CHARS);
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_EXCERPT_CHARS ? `${flat.slice(0, MAX_EXCERPT_CHARS)}…` : flat;
}

/**
 * The episodic memory of a finished job: its kind, the customer (npub), what was asked and the answer. An
 * encrypted request's text stays private: only the fact of the job is remembered.
 */
export function jobMemory(o: { request: NostrEvent; prompt: string; answer: string; encrypted: boolean }): {
  content: string;
  meta: Record<string, unknown>;
} {
  const customer = encodeNpub(o.request.pubkey);
  const content = o.encrypted
    ? `Did an encrypted job of kind ${o.request.kind} for customer ${customer}.`
    : `Job of kind ${o.request.kind} for customer ${customer}. Asked: ${excerpt(o.prompt)} Answered: ${excerpt(o.answer)}`;
  return { content, meta: { job: o.request.id, kind: o.request.kind, customer: o.request.pubkey } };
}

/**
 * Recall that never fails a job: a memory that cannot answer is logged and the prompt goes without.
 * `customer`: the job's customer (the request's author), whose memories alone are recalled of past jobs.
 */
export async function recallSafely(
  memory: AgentMemory,
  agent: string,
  request: CompletionRequest,
  logger: Logger,
  customer?: string,
): Promise<CompletionRequest> {
  try {
    return withRecalled(request, await memory.recall(agent, recallQuery(request), customer));
  } catch (err) {
    logger.warn({ err: errorMessage(err) }, 'memory recall failed; the prompt goes without memories');
    return request;
  }
}
