/**
 * What a spoken (or typed) request means: rules first — status, balance, approve, a job of a kind the network
 * serves, and "ask Timmy" for anything else — then, when a language model is configured, the model for what
 * the rules leave to "ask". The rules' fixed phrases are exported (`intentPhrases`) for a command grammar.
 */
import type { LlmProvider } from '../llm/provider.ts';

/** The job kinds the rules can submit (the handlers this network ships: agents/personas.json). */
export const INTENT_JOB_KINDS = {
  summary: 5001,
  translation: 5002,
  extraction: 5000,
  echo: 5700,
} as const;

export interface JobIntent {
  type: 'submit';
  kind: number;
  /** What the job is called when spoken back ("a summary"). */
  label: string;
  input: { data: string; type: 'url' | 'text' };
  params?: Record<string, string>;
}

export type Intent = (
  | { type: 'status' }
  | { type: 'balance' }
  /** `job`: a job id or the start of one, when given; else the job waiting longest. */
  | { type: 'approve'; job?: string }
  | JobIntent
  | { type: 'ask'; question: string }
  /** Nothing was said. */
  | { type: 'none' }
) & { by: 'rules' | 'llm' };

const STATUS_PHRASES = [
  'status',
  'how are things',
  "how's it going",
  'how is it going',
  "what's the status",
  'what is the status',
  'give me the status',
  'are the agents up',
  'are you up',
];
const BALANCE_PHRASES = [
  'balance',
  "what's the balance",
  'what is the balance',
  "what's my balance",
  'what is my balance',
  'how much money do we have',
  'how many sats do we have',
];
const APPROVE_PHRASES = ['approve', 'approve the job', 'approve the pending job', 'approve the next job'];
/** The verbs that start a job; the rest of the sentence is its input. */
const JOB_VERBS: { verbs: string[]; kind: number; label: string }[] = [
  { verbs: ['summarize', 'summarise', 'sum up'], kind: INTENT_JOB_KINDS.summary, label: 'a summary' },
  { verbs: ['translate'], kind: INTENT_JOB_KINDS.translation, label: 'a translation' },
  {
    verbs: ['extract the text from', 'extract text from', 'get the text of'],
    kind: INTENT_JOB_KINDS.extraction,
    label: 'a text extraction',
  },
  { verbs: ['echo', 'repeat after me', 'repeat'], kind: INTENT_JOB_KINDS.echo, label: 'an echo' },
];

/** The phrases the rules recognize as they are said (for a speech grammar: pocketsphinx command mode). */
export function intentPhrases(): string[] {
  return [
    ...STATUS_PHRASES,
    ...BALANCE_PHRASES,
    ...APPROVE_PHRASES,
    ...JOB_VERBS.flatMap((j) => j.verbs),
  ].filter((p, i, all) => all.indexOf(p) === i);
}

/** Lower case, apostrophes kept, other punctuation (but a URL's) dropped, spaces collapsed. */
export function normalizeUtterance(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’‘]/g, "'")
    .replace(/[!?,;"]+(\s|$)/g, ' ')
    .replace(/\.(\s|$)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const URL_RE = /^(https?:\/\/\S+|[a-z0-9-]+(\.[a-z0-9-]+)+(\/\S*)?)$/i;

/** "example dot com slash news" → "https://example.com/news"; a typed URL as it is (https added). */
export function urlOf(text: string): string | undefined {
  const t = text.trim();
  const joined = /\sdot\s/i.test(t)
    ? t
        .replace(/\s+dot\s+/gi, '.')
        .replace(/\s+slash\s+/gi, '/')
        .replace(/\s+/g, '')
    : t;
  if (/\s/.test(joined) || !URL_RE.test(joined)) return undefined;
  return /^https?:\/\//i.test(joined) ? joined : `https://${joined}`;
}

function jobOf(kind: number, label: string, rest: string): JobIntent | undefined {
  let body = rest.trim();
  const params: Record<string, string> = {};
  if (kind === INTENT_JOB_KINDS.translation) {
    const m = /^(.+?)\s+(?:in|into|to)\s+([a-z\u00c0-\u024f-]+)$/i.exec(body);
    if (!m) return undefined;
    body = m[1]!.trim();
    params.language = m[2]!;
  }
  body = body.replace(/^(this|the page|the article|the text)\s+(at\s+)?/i, '').trim();
  if (body === '') return undefined;
  const url = urlOf(body);
  return {
    type: 'submit',
    kind,
    label,
    input: url ? { data: url, type: 'url' } : { data: body, type: 'text' },
    ...(Object.keys(params).length > 0 ? { params } : {}),
  };
}

/** The rules alone: undefined when they do not know (the caller asks the model, or treats it as a question). */
export function ruleIntent(text: string): Intent | undefined {
  const t = normalizeUtterance(text);
  if (t === '') return { type: 'none', by: 'rules' };
  const bare = t.replace(/^(hey |ok |okay )?timmy /, '').replace(/^(please |can you |could you )/, '');
  const plain = bare.replace(/ please$/, '');
  if (STATUS_PHRASES.includes(plain) || /^(what's|what is) (the )?(status|news)\b/.test(plain))
    return { type: 'status', by: 'rules' };
  if (/\b(balance|how much money|how many sats)\b/.test(plain)) return { type: 'balance', by: 'rules' };
  const approve = /^(approve|accept)\b(.*)$/.exec(plain);
  if (approve) {
    const id = /\b([0-9a-f]{6,64})\b/.exec(approve[2] ?? '')?.[1];
    return { type: 'approve', ...(id ? { job: id } : {}), by: 'rules' };
  }
  // The job's input is taken from the text as given: a typed URL keeps its case and query.
  const given = text.trim().replace(/[.!]+$/, '');
  for (const j of JOB_VERBS)
    for (const verb of j.verbs) {
      const m = new RegExp(
        `^(?:(?:hey |ok |okay )?timmy,? )?(?:please |can you |could you )?${verb}\\s+(.+)$`,
        'is',
      ).exec(given);
      if (m && plain.startsWith(`${verb} `)) {
        const job = jobOf(j.kind, j.label, m[1] ?? '');
        if (job) return { ...job, by: 'rules' };
      }
    }
  return undefined;
}

export interface IntentParserOptions {
  /** Asked what the rules leave to "ask", when configured. */
  llm?: LlmProvider;
  /** The model's limit per call (default 10 s); past it the request is a question. */
  llmTimeoutMs?: number;
}

const SYSTEM = `You sort one request to an AI agent network into an intent. Answer with JSON only, one object:
{"intent":"status"} — how the network is doing;
{"intent":"balance"} — the wallet's balance;
{"intent":"approve","job":"<hex id or empty>"} — approve a job waiting for approval;
{"intent":"submit","kind":5001,"input":"<url or text>"} — summarize (5001), extract text (5000), echo (5700);
{"intent":"submit","kind":5002,"input":"<text>","language":"<language>"} — translate;
{"intent":"ask"} — anything else.`;

export class IntentParser {
  constructor(private readonly opts: IntentParserOptions = {}) {}

  /** Whether a model helps (the rules run first either way). */
  get usesLlm(): boolean {
    return this.opts.llm !== undefined;
  }

  async parse(text: string, signal?: AbortSignal): Promise<Intent> {
    const ruled = ruleIntent(text);
    if (ruled) return ruled;
    const question: Intent = { type: 'ask', question: text.trim(), by: 'rules' };
    const llm = this.opts.llm;
    if (!llm) return question;
    const limit = new AbortController();
    const timer = setTimeout(() => limit.abort(), this.opts.llmTimeoutMs ?? 10_000);
    const timeout = limit.signal;
    try {
      const answer = await llm.complete({
        messages: [
          { role: 'system', content: SYSTEM },
          { role: 'user', content: text.trim() },
        ],
        maxTokens: 120,
        temperature: 0,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      return llmIntent(answer.text, text.trim()) ?? question;
    } catch (err) {
      if (signal?.aborted) throw err;
      return question; // the model failing leaves it a question: the rules' answer, never an error
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The model's JSON answer as an intent; undefined when it is not one (garbage never becomes an action). */
export function llmIntent(answer: string, original: string): Intent | undefined {
  const m = /\{[\s\S]*\}/.exec(answer);
  if (!m) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(m[0]);
  } catch {
    return undefined;
  }
  if (o === null || typeof o !== 'object') return undefined;
  const r = o as Record<string, unknown>;
  const str = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');
  switch (r.intent) {
    case 'status':
      return { type: 'status', by: 'llm' };
    case 'balance':
      return { type: 'balance', by: 'llm' };
    case 'approve': {
      const job = str(r.job);
      return { type: 'approve', ...(/^[0-9a-f]{6,64}$/.test(job) ? { job } : {}), by: 'llm' };
    }
    case 'submit': {
      const spec = JOB_VERBS.find((j) => j.kind === r.kind);
      const input = str(r.input);
      if (!spec || input === '' || input.length > 2000) return undefined;
      const language = str(r.language);
      if (spec.kind === INTENT_JOB_KINDS.translation && !/^[\p{L} -]{2,40}$/u.test(language))
        return undefined;
      const url = urlOf(input);
      return {
        type: 'submit',
        kind: spec.kind,
        label: spec.label,
        input: url ? { data: url, type: 'url' } : { data: input, type: 'text' },
        ...(spec.kind === INTENT_JOB_KINDS.translation ? { params: { language } } : {}),
        by: 'llm',
      };
    }
    case 'ask':
      return { type: 'ask', question: original, by: 'llm' };
    default:
      return undefined;
  }
}
