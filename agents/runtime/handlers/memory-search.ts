/**
 * Kind 5701 (project-defined, docs/protocol.md): searches the serving agent's memory (docs/memory.md,
 * "Memory as a DVM") and answers with the matching memories and their sources, best first.
 *
 * The query is the text input (several are joined). Params: `k` (1 to 50, default 5), `agent` (the namespace
 * searched; default the serving agent's own), `kind` (semantic, procedural: comma-separated; default both),
 * `hybrid` ("true": vector and BM25 fused). Episodic memories are never served: they record customers' jobs
 * (their requests and answers), which no other client may read. The result is JSON (`MemorySearchAnswer`), or markdown when the
 * request's `output` tag is `text/markdown`. An agent without a memory fails the job with an error feedback.
 */
import {
  type HandlerContext,
  type HandlerOutput,
  type JobHandler,
  type JobInput,
  JobInputError,
  type MemoryHit,
} from '../../../dvm/handler.ts';
import { isHex64, MEMORY_SEARCH_KIND } from '../../../dvm/kinds.ts';
import { inputText, intParam, shown, textParam } from './params.ts';

/** What an outside client may search: facts and procedures, never the episodic records of customers' jobs. */
const PUBLIC_KINDS = ['semantic', 'procedural'] as const;
const DEFAULT_K = 5;
const MAX_K = 50;
const MAX_QUERY_CHARS = 2000;
const MAX_CONTENT_CHARS = 2000;
const NAMESPACE = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

export const NO_MEMORY_MESSAGE = 'this agent has no memory configured';

/** Where a memory came from: the job (request id) or event it records, when its metadata names one. */
export interface MemorySource {
  job?: string;
  event?: string;
}

export interface MemorySearchResult {
  rank: number;
  id: number;
  agent: string;
  kind: string;
  /** ISO 8601. */
  createdAt: string;
  score: number;
  content: string;
  source: MemorySource;
}

/** The result's content, as JSON. */
export interface MemorySearchAnswer {
  query: string;
  /** The namespace asked for; absent: the serving agent's own (each result names its agent). */
  agent?: string;
  kinds: string[];
  hybrid: boolean;
  results: MemorySearchResult[];
}

function sourceOf(meta: Record<string, unknown>): MemorySource {
  const source: MemorySource = {};
  if (isHex64(meta.job)) source.job = meta.job;
  if (isHex64(meta.event)) source.event = meta.event;
  return source;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function kindsParam(params: Record<string, string>): string[] {
  const raw = textParam(params, 'kind');
  if (raw === undefined) return [...PUBLIC_KINDS];
  const kinds = [...new Set(raw.split(',').map((k) => k.trim().toLowerCase()))].filter((k) => k !== '');
  if (kinds.includes('episodic'))
    throw new JobInputError(
      "episodic memories record customers' jobs and are never searchable by other clients: " +
        `ask for ${PUBLIC_KINDS.join(' or ')} (e.g. ["param", "kind", "semantic"])`,
    );
  const bad = kinds.find((k) => !(PUBLIC_KINDS as readonly string[]).includes(k));
  if (bad !== undefined || kinds.length === 0)
    throw new JobInputError(
      `param "kind" must be ${PUBLIC_KINDS.join(', ')} (comma-separated), got "${shown(raw)}" ` +
        '(e.g. ["param", "kind", "semantic"])',
    );
  return kinds;
}

function agentParam(params: Record<string, string>): string | undefined {
  const raw = textParam(params, 'agent');
  if (raw === undefined || NAMESPACE.test(raw)) return raw;
  throw new JobInputError(
    `param "agent" must be an agent's name (letters, digits, - and _), got "${shown(raw)}" ` +
      '(e.g. ["param", "agent", "seer"])',
  );
}

function hybridParam(params: Record<string, string>): boolean {
  const raw = textParam(params, 'hybrid')?.toLowerCase();
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new JobInputError(`param "hybrid" must be "true" or "false", got "${shown(raw)}"`);
}

function result(hit: MemoryHit, index: number): MemorySearchResult {
  return {
    rank: index + 1,
    id: hit.id,
    agent: hit.agent,
    kind: hit.kind,
    createdAt: new Date(hit.createdAt).toISOString(),
    score: Math.round(hit.score * 10_000) / 10_000,
    content: clip(hit.content, MAX_CONTENT_CHARS),
    source: sourceOf(hit.meta),
  };
}

/** The answer as markdown: one numbered item per memory, its source on the line below. */
export function answerMarkdown(answer: MemorySearchAnswer): string {
  if (answer.results.length === 0) return `No memory matches "${answer.query}".`;
  const items = answer.results.map((r) => {
    const from = [
      `memory ${r.id}`,
      `agent ${r.agent}`,
      r.kind,
      r.createdAt,
      `score ${r.score}`,
      ...(r.source.job ? [`job ${r.source.job}`] : []),
      ...(r.source.event ? [`event ${r.source.event}`] : []),
    ];
    return `${r.rank}. ${r.content.replace(/\s+/g, ' ')}\n   — ${from.join(' · ')}`;
  });
  return `Memories matching "${answer.query}":\n\n${items.join('\n')}`;
}

export const memorySearch: JobHandler = {
  name: 'memory-search',
  kinds: [MEMORY_SEARCH_KIND],
  needsLlm: false,
  paramSchema: {
    type: 'object',
    properties: {
      k: { type: 'integer', minimum: 1, maximum: MAX_K, description: 'how many memories (default 5)' },
      agent: { type: 'string', description: "the namespace searched (default the serving agent's)" },
      kind: { type: 'string', description: 'semantic, procedural (comma-separated; default both)' },
      hybrid: { type: 'string', enum: ['true', 'false'], description: 'fuse vector and keyword search' },
    },
  },
  async run(job: JobInput, ctx: HandlerContext): Promise<HandlerOutput> {
    const query = clip(
      inputText(job, '\n', 'a memory search needs a query as a text input'),
      MAX_QUERY_CHARS,
    );
    const k = intParam(job.params, 'k', { min: 1, max: MAX_K }) ?? DEFAULT_K;
    const agent = agentParam(job.params);
    const kinds = kindsParam(job.params);
    const hybrid = hybridParam(job.params);
    if (!ctx.memory) throw new JobInputError(NO_MEMORY_MESSAGE);
    const hits = await ctx.memory.search(query, {
      k,
      hybrid,
      ...(agent === undefined ? {} : { agent }),
      kinds,
    });
    const answer: MemorySearchAnswer = {
      query,
      ...(agent === undefined ? {} : { agent }),
      kinds,
      hybrid,
      results: hits.slice(0, k).map(result),
    };
    ctx.logger.debug({ job: job.id, k, found: answer.results.length }, 'memory search done');
    const markdown = job.output.split(';')[0]?.trim().toLowerCase() === 'text/markdown';
    return { content: markdown ? answerMarkdown(answer) : JSON.stringify(answer) };
  },
};
