/**
 * A small markdown subset for job results, built as Lit templates whose every piece of text is bound as
 * text (never innerHTML): paragraphs, headings, emphasis (*em*, **strong**), inline code, fenced code
 * blocks, lists (- * + and 1.), links only to http(s) URLs (rel="noopener noreferrer", new tab). Anything
 * else, HTML included, shows as the characters it is.
 */
import { html, nothing, type TemplateResult } from 'lit';

type Inline = TemplateResult | string;

export type Block =
  | { type: 'p'; text: string }
  | { type: 'h'; level: number; text: string }
  | { type: 'code'; text: string; lang: string }
  | { type: 'ul' | 'ol'; items: string[] };

const LIST_ITEM = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/;

/** The blocks of `source` (exported for tests). */
export function parseBlocks(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let para: string[] = [];
  const flush = (): void => {
    if (para.length) blocks.push({ type: 'p', text: para.join('\n') });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const fence = /^\s{0,3}(```|~~~)\s*([\w-]*)/.exec(line);
    if (fence) {
      flush();
      const body: string[] = [];
      i++;
      while (i < lines.length && !(lines[i] ?? '').trimStart().startsWith(fence[1] ?? '```')) {
        body.push(lines[i] ?? '');
        i++;
      }
      blocks.push({ type: 'code', text: body.join('\n'), lang: fence[2] ?? '' });
      continue;
    }
    const heading = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      flush();
      blocks.push({ type: 'h', level: heading[1]?.length ?? 1, text: heading[2] ?? '' });
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      flush();
      const ordered = /\d/.test(item[1] ?? '');
      const items = [item[2] ?? ''];
      while (i + 1 < lines.length) {
        const next = LIST_ITEM.exec(lines[i + 1] ?? '');
        if (!next || /\d/.test(next[1] ?? '') !== ordered) break;
        items.push(next[2] ?? '');
        i++;
      }
      blocks.push({ type: ordered ? 'ol' : 'ul', items });
      continue;
    }
    if (line.trim() === '') flush();
    else para.push(line);
  }
  flush();
  return blocks;
}

/** Only absolute http(s) URLs are links; anything else (javascript:, data:, relative) stays text. */
export function safeHref(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

const INLINE =
  /(`+)([\s\S]*?[^`])\1(?!`)|\*\*([\s\S]+?)\*\*|__([\s\S]+?)__|\*([^*\s][^*]*?)\*|_([^_\s][^_]*?)_|\[([^\]]+)\]\(([^)\s]+)\)/g;

/** Inline markup of one block's text. */
export function renderInline(text: string, depth = 0): Inline[] {
  const out: Inline[] = [];
  let last = 0;
  const matches = [...text.matchAll(INLINE)];
  for (const m of matches) {
    const at = m.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    last = at + m[0].length;
    const inner = (s: string): Inline[] => (depth < 4 ? renderInline(s, depth + 1) : [s]);
    if (m[2] !== undefined) out.push(html`<code>${m[2]}</code>`);
    else if (m[3] !== undefined || m[4] !== undefined)
      out.push(html`<strong>${inner(m[3] ?? m[4] ?? '')}</strong>`);
    else if (m[5] !== undefined || m[6] !== undefined) out.push(html`<em>${inner(m[5] ?? m[6] ?? '')}</em>`);
    else if (m[7] !== undefined) {
      const href = safeHref(m[8] ?? '');
      out.push(
        href ? html`<a href=${href} rel="noopener noreferrer" target="_blank">${inner(m[7])}</a>` : m[0],
      );
    }
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function heading(level: number, body: Inline[]): TemplateResult {
  switch (level) {
    case 1:
      return html`<h3 class="md-h1">${body}</h3>`;
    case 2:
      return html`<h4 class="md-h2">${body}</h4>`;
    case 3:
      return html`<h5 class="md-h3">${body}</h5>`;
    default:
      return html`<h6 class="md-h4">${body}</h6>`;
  }
}

/** `source` as a Lit template (nothing for an empty text). */
export function renderMarkdown(source: string): TemplateResult | typeof nothing {
  const blocks = parseBlocks(source);
  if (blocks.length === 0) return nothing;
  return html`${blocks.map((b) => {
    switch (b.type) {
      case 'p':
        return html`<p>${renderInline(b.text)}</p>`;
      case 'h':
        return heading(b.level, renderInline(b.text));
      case 'code':
        return html`<pre><code data-lang=${b.lang}>${b.text}</code></pre>`;
      case 'ul':
        return html`<ul>${b.items.map((t) => html`<li>${renderInline(t)}</li>`)}</ul>`;
      default:
        return html`<ol>${b.items.map((t) => html`<li>${renderInline(t)}</li>`)}</ol>`;
    }
  })}`;
}
