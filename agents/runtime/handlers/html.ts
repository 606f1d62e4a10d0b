/**
 * HTML to plain text, in one linear pass (no regular expression that could backtrack on hostile markup).
 * Scripts, styles and other non-text elements are dropped with their content; comments and declarations
 * go; block elements become paragraph breaks, <br>, <li>, <tr> and the like line breaks, table cells are
 * joined with " | "; <pre> keeps its layout. Entities (the common named ones, decimal and hex) are
 * decoded after the tags are gone, so "&lt;b&gt;" stays visible text. As in browsers, a tag left open at
 * the end of the input hides the rest, and so does an unclosed <script> or <style>.
 */

/** Elements dropped with everything up to their end tag. */
const REMOVED = new Set(
  'script style template svg math head noscript iframe object canvas select textarea'.split(' '),
);
/** Removed elements that, left unclosed, hide the rest of the document. */
const RAW_TEXT = new Set(['script', 'style']);
const PARAGRAPH_ELEMENTS = new Set(
  (
    'p div h1 h2 h3 h4 h5 h6 blockquote section article header footer nav aside main figure figcaption ' +
    'table ul ol dl form fieldset address details summary hr center body html pre'
  ).split(' '),
);
const LINE_ELEMENTS = new Set('br li tr dt dd caption legend'.split(' '));
const CELL_ELEMENTS = new Set(['td', 'th']);
/** Private-use characters mark cell ends and <pre> placeholders while the text is rebuilt. */
const CELL = '\ue000';
const PRE_OPEN = '\ue001';
const PRE_CLOSE = '\ue002';
const PRE_PLACEHOLDER = /\ue001(\d+)\ue002/g;
const TAG_START = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)/y;
const SPACE = /\s/;

/** "name:value" pairs of the named entities whose value has no space. */
const ENTITY_TABLE = [
  'amp:& lt:< gt:> quot:" apos:\' copy:© reg:® trade:™ hellip:… mdash:— ndash:– minus:− lsquo:‘ ',
  'rsquo:’ sbquo:‚ ldquo:“ rdquo:” bdquo:„ laquo:« raquo:» lsaquo:‹ rsaquo:› bull:• middot:· ',
  'dagger:† Dagger:‡ permil:‰ prime:′ Prime:″ deg:° plusmn:± times:× divide:÷ frac12:½ frac14:¼ ',
  'frac34:¾ sup1:¹ sup2:² sup3:³ micro:µ para:¶ sect:§ cent:¢ pound:£ yen:¥ euro:€ curren:¤ ',
  'iexcl:¡ iquest:¿ ordf:ª ordm:º not:¬ larr:← rarr:→ uarr:↑ darr:↓ harr:↔ lArr:⇐ rArr:⇒ hArr:⇔ ',
  'le:≤ ge:≥ ne:≠ asymp:≈ infin:∞ szlig:ß aelig:æ AElig:Æ oslash:ø Oslash:Ø eth:ð ETH:Ð thorn:þ ',
  'THORN:Þ oelig:œ OElig:Œ scaron:š Scaron:Š ',
];
const NAMED_ENTITIES: Record<string, string> = {
  nbsp: ' ',
  ensp: ' ',
  emsp: ' ',
  thinsp: ' ',
  shy: '',
  lrm: '',
  rlm: '',
  zwj: '\u200d',
  zwnj: '\u200c',
};
for (const entry of ENTITY_TABLE.join('').trim().split(' ')) {
  const colon = entry.indexOf(':');
  NAMED_ENTITIES[entry.slice(0, colon)] = entry.slice(colon + 1);
}
// Accented Latin letters: &eacute; &Ouml; &ntilde; &ccedil; ...
for (const [accent, mark, letters] of [
  ['acute', '\u0301', 'aeiouyAEIOUY'],
  ['grave', '\u0300', 'aeiouAEIOU'],
  ['circ', '\u0302', 'aeiouAEIOU'],
  ['uml', '\u0308', 'aeiouyAEIOUY'],
  ['tilde', '\u0303', 'anoANO'],
  ['cedil', '\u0327', 'cC'],
  ['ring', '\u030a', 'aA'],
] as const)
  for (const letter of letters) NAMED_ENTITIES[`${letter}${accent}`] = `${letter}${mark}`.normalize('NFC');
/** Named entities browsers decode even without the final ";". */
const LEGACY_ENTITIES = new Set(['amp', 'lt', 'gt', 'quot', 'nbsp', 'copy', 'reg']);
/** What numeric references 128-159 mean in HTML (Windows-1252). */
const WINDOWS_1252 = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';
const ENTITY = /&(?:#(\d{1,8})|#[xX]([0-9a-fA-F]{1,7})|([a-zA-Z][a-zA-Z0-9]{1,31}))(;?)/g;

function fromCodePoint(code: number): string {
  if (code >= 0x80 && code <= 0x9f) return WINDOWS_1252[code - 0x80] ?? '\ufffd';
  if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
  return String.fromCodePoint(code);
}

/** Decodes numeric references and the common named entities (unknown ones are left as written). */
export function decodeEntities(text: string): string {
  return text.replace(ENTITY, (whole, dec?: string, hex?: string, name?: string, semicolon?: string) => {
    if (dec !== undefined) return fromCodePoint(Number.parseInt(dec, 10));
    if (hex !== undefined) return fromCodePoint(Number.parseInt(hex, 16));
    const value = name === undefined ? undefined : NAMED_ENTITIES[name];
    if (value === undefined || (semicolon === '' && !LEGACY_ENTITIES.has(name ?? ''))) return whole;
    return value;
  });
}

/** Index of the ">" that ends a tag whose attributes start at `from` (quoted values skipped), or -1. */
function tagEnd(html: string, from: number): number {
  let i = from;
  while (i < html.length) {
    const ch = html[i];
    if (ch === '>') return i;
    i++;
    if (ch !== '=') continue;
    while (SPACE.test(html[i] ?? '')) i++;
    const quote = html[i];
    if (quote === '"' || quote === "'") {
      const close = html.indexOf(quote, i + 1);
      if (close === -1) return -1;
      i = close + 1;
    }
  }
  return -1;
}

const endTags = new Map<string, RegExp>();

/** Index of the end tag of `name` at or after `from`, or -1. */
function findEndTag(html: string, name: string, from: number): number {
  let re = endTags.get(name);
  if (re === undefined) {
    re = new RegExp(`</${name}(?=[\\s/>]|$)`, 'gi');
    endTags.set(name, re);
  }
  re.lastIndex = from;
  return re.exec(html)?.index ?? -1;
}

/** Position just after the end tag starting at `at` (or the input's end). */
function afterEndTag(html: string, at: number): number {
  const end = html.indexOf('>', at);
  return end === -1 ? html.length : end + 1;
}

/**
 * Walks the markup and returns text pieces and break markers. In `preformatted` mode (the content of a
 * <pre>) whitespace is kept and only <br> makes a break.
 */
function scan(html: string, preformatted: boolean, preserved: string[]): string {
  const out: string[] = [];
  const text = (t: string): void => {
    if (t !== '') out.push(preformatted ? t : t.replace(/\s+/g, ' '));
  };
  const unclosed = new Set<string>();
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt === -1) {
      text(html.slice(i));
      break;
    }
    text(html.slice(i, lt));
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      i = end === -1 ? html.length : end + 3;
      out.push(' ');
      continue;
    }
    if (html.startsWith('<![CDATA[', lt)) {
      const end = html.indexOf(']]>', lt + 9);
      text(html.slice(lt + 9, end === -1 ? html.length : end));
      i = end === -1 ? html.length : end + 3;
      continue;
    }
    if (html[lt + 1] === '!' || html[lt + 1] === '?') {
      i = afterEndTag(html, lt);
      continue;
    }
    TAG_START.lastIndex = lt;
    const tag = TAG_START.exec(html);
    if (tag === null) {
      text('<');
      i = lt + 1;
      continue;
    }
    const end = tagEnd(html, TAG_START.lastIndex);
    if (end === -1) break; // a tag still open at the end: the rest is inside it
    i = end + 1;
    const closing = tag[1] === '/';
    const name = (tag[2] ?? '').toLowerCase();
    if (!closing && (REMOVED.has(name) || (name === 'pre' && !preformatted))) {
      const close = unclosed.has(name) ? -1 : findEndTag(html, name, i);
      if (close === -1) unclosed.add(name);
      if (name === 'pre') {
        const body = scan(html.slice(i, close === -1 ? html.length : close), true, preserved);
        preserved.push(decodeEntities(body).replace(/^\n+/, '').trimEnd());
        out.push(`\n\n${PRE_OPEN}${preserved.length - 1}${PRE_CLOSE}\n\n`);
      } else if (close === -1 && RAW_TEXT.has(name)) {
        break;
      }
      i = close === -1 ? (name === 'pre' ? html.length : i) : afterEndTag(html, close);
      out.push(' ');
      continue;
    }
    if (preformatted) {
      if (name === 'br') out.push('\n');
    } else if (PARAGRAPH_ELEMENTS.has(name)) out.push('\n\n');
    else if (LINE_ELEMENTS.has(name)) out.push(name === 'br' || !closing ? '\n' : '');
    else if (CELL_ELEMENTS.has(name)) out.push(closing ? CELL : ' ');
  }
  return out.join('');
}

/** Plain text of an HTML document or fragment. */
export function htmlToText(html: string): string {
  const preserved: string[] = [];
  return decodeEntities(scan(html, false, preserved))
    .split('\n')
    .map((line) =>
      line
        .split(CELL)
        .map((cell) => cell.replace(/\s+/g, ' ').trim())
        .filter((cell) => cell !== '')
        .join(' | '),
    )
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
    .replace(PRE_PLACEHOLDER, (_, n: string) => preserved[Number(n)] ?? '');
}
