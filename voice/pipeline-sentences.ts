/**
 * An answer cut into sentences as it arrives, so the first one can be spoken while the rest is still being
 * written or synthesized. Markdown marks are dropped (they are not spoken); "e.g.", "Dr." and numbers like
 * "3.5" do not end a sentence.
 */

const ABBREVIATIONS = new Set(['e.g', 'i.e', 'etc', 'vs', 'mr', 'mrs', 'ms', 'dr', 'st', 'no', 'approx']);
const BOUNDARY = /[.!?]+["')\]]*\s+|\n{2,}|\n(?=\s*[-*\d])/g;
/** A sentence longer than this is cut at its last comma or space before it (TTS engines slow on long input). */
const MAX_SENTENCE = 300;

export class SentenceSplitter {
  private buffer = '';

  /** Adds text; returns the sentences it completed. */
  push(text: string): string[] {
    this.buffer += text;
    const out: string[] = [];
    let from = 0;
    BOUNDARY.lastIndex = 0;
    for (let m = BOUNDARY.exec(this.buffer); m !== null; m = BOUNDARY.exec(this.buffer)) {
      const end = m.index + m[0].length;
      const candidate = this.buffer.slice(from, end);
      const lastWord = /(\S+?)[.!?]+["')\]]*\s*$/.exec(candidate)?.[1]?.toLowerCase() ?? '';
      if (m[0].startsWith('.') && ABBREVIATIONS.has(lastWord)) continue;
      out.push(candidate);
      from = end;
    }
    this.buffer = this.buffer.slice(from);
    while (this.buffer.length > MAX_SENTENCE) {
      const cut = Math.max(
        this.buffer.lastIndexOf(', ', MAX_SENTENCE),
        this.buffer.lastIndexOf(' ', MAX_SENTENCE),
      );
      const at = cut > 0 ? cut + 1 : MAX_SENTENCE;
      out.push(this.buffer.slice(0, at));
      this.buffer = this.buffer.slice(at);
    }
    return out.map(speakable).filter((s) => s !== '');
  }

  /** The text left over (the last sentence, unterminated). */
  flush(): string[] {
    const rest = speakable(this.buffer);
    this.buffer = '';
    return rest === '' ? [] : [rest];
  }
}

/** Text as it is spoken: markdown emphasis, headings, code marks and list bullets dropped, spaces collapsed. */
export function speakable(text: string): string {
  return text
    .replace(/```[\s\S]*?```/g, ' ')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[*_`#>]+/g, '')
    .replace(/^\s*[-•]\s+/gm, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Every sentence of a whole text. */
export function sentencesOf(text: string): string[] {
  const s = new SentenceSplitter();
  return [...s.push(text), ...s.flush()];
}
