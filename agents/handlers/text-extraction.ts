/**
 * Kind 5000: turns each input into plain text. HTML (by content type, or by its look when there is none)
 * loses its scripts, styles and tags, keeps line and paragraph breaks where block elements were (table
 * cells are joined with " | ", <pre> keeps its layout) and has its entities decoded; JSON is
 * pretty-printed; plain text passes through. Audio, video and images would need speech-to-text or OCR,
 * which this instance does not have yet; other binary content is refused with its content type named.
 * The `range` param is not supported and is ignored. Several inputs are separated by a blank line.
 */
import {
  type HandlerContext,
  type HandlerOutput,
  type JobHandler,
  type JobInput,
  JobInputError,
  type ResolvedInput,
} from '../../dvm/handler.ts';

export type TextFormat = 'html' | 'json' | 'text';

export const SPEECH_TO_TEXT_UNAVAILABLE =
  'speech-to-text is not available on this instance yet (kind 5000 audio input)';
export const OCR_UNAVAILABLE =
  'text recognition (OCR) is not available on this instance yet (kind 5000 image input)';

/** application/* types that are text. */
const TEXTUAL_APPLICATION = new Set(
  (
    'json xml javascript ecmascript x-javascript typescript x-typescript yaml x-yaml toml x-toml sql graphql ' +
    'csv x-csv x-sh x-shellscript x-python x-httpd-php markdown x-markdown x-www-form-urlencoded ld+json ' +
    'x-ndjson ndjson x-tex x-latex rtf'
  )
    .split(' ')
    .map((t) => `application/${t}`),
);

const REMOVED_ELEMENTS = 'script|style|template|svg|math|head|noscript|iframe|object|canvas|select';
const PARAGRAPH_ELEMENTS = new Set(
  (
    'p div h1 h2 h3 h4 h5 h6 blockquote section article header footer nav aside main figure figcaption ' +
    'table ul ol dl form fieldset address details summary hr center body html'
  ).split(' '),
);
const LINE_ELEMENTS = new Set('br li tr dt dd caption legend'.split(' '));
const CELL_ELEMENTS = new Set(['td', 'th']);
/** Private-use characters mark cell ends and <pre> placeholders while the text is rebuilt. */
const CELL = '\ue000';
const PRE_OPEN = '\ue001';
const PRE_CLOSE = '\ue002';
const PRE_PLACEHOLDER = /\ue001(\d+)\ue002/g;
const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)(?:[^>"']|"[^"]*"|'[^']*')*>/g;
const PRE = /<pre\b(?:[^>"']|"[^"]*"|'[^']*')*>([\s\S]*?)<\/pre\s*>/gi;

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

/** Plain text of an HTML document or fragment. */
export function htmlToText(html: string): string {
  const preserved: string[] = [];
  let s = html
    .replace(/<!--[\s\S]*?(?:-->|$)/g, ' ')
    .replace(new RegExp(`<(${REMOVED_ELEMENTS})\\b[\\s\\S]*?<\\/\\1\\s*>`, 'gi'), ' ')
    .replace(/<(script|style)\b[\s\S]*$/i, ' ') // an unclosed script runs to the end
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1')
    .replace(/<[!?][^>]*>/g, ' ')
    .replace(PRE, (_, body: string) => {
      preserved.push(decodeEntities(body.replace(TAG, '')).replace(/^\n+|\s+$/g, ''));
      return `<p>${PRE_OPEN}${preserved.length - 1}${PRE_CLOSE}</p>`;
    })
    .replace(/\s+/g, ' ');
  s = s.replace(TAG, (_, closing: string, tag: string) => {
    const name = tag.toLowerCase();
    if (PARAGRAPH_ELEMENTS.has(name)) return '\n\n';
    if (LINE_ELEMENTS.has(name)) return name === 'br' || closing === '' ? '\n' : '';
    if (CELL_ELEMENTS.has(name)) return closing === '' ? '' : CELL;
    return '';
  });
  s = decodeEntities(s)
    .split('\n')
    .map((line) =>
      line
        .split(CELL)
        .map((cell) => cell.replace(/[^\S\n]+/g, ' ').trim())
        .filter((cell) => cell !== '')
        .join(' | '),
    )
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return s.replace(PRE_PLACEHOLDER, (_, n: string) => preserved[Number(n)] ?? '');
}

function mimeType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/** Guesses the format of content that came without a content type. */
function sniff(text: string): TextFormat {
  const start = text.trimStart();
  if (/^<(?:!doctype\s+html|html|head|body)[\s>]/i.test(start)) return 'html';
  if (/^[[{]/.test(start)) {
    try {
      JSON.parse(start);
      return 'json';
    } catch {
      // not JSON: fall through
    }
  }
  const tags = start.match(
    /<\/(?:p|div|li|h[1-6]|table|tr|td|span|a|b|i|em|strong|section|article)>|<br\s*\/?>/gi,
  );
  return (tags?.length ?? 0) >= 2 ? 'html' : 'text';
}

/** The format of an input, or a JobInputError when its content is not text. */
export function formatOf(input: Pick<ResolvedInput, 'contentType' | 'text'>): TextFormat {
  const mime = mimeType(input.contentType);
  if (mime === '') return sniff(input.text);
  if (mime.startsWith('audio/') || mime.startsWith('video/'))
    throw new JobInputError(SPEECH_TO_TEXT_UNAVAILABLE);
  if (mime.startsWith('image/')) throw new JobInputError(OCR_UNAVAILABLE);
  if (mime === 'text/html' || mime === 'application/xhtml+xml') return 'html';
  if (mime === 'application/json' || mime === 'text/json' || mime.endsWith('+json')) return 'json';
  if (mime.startsWith('text/') || TEXTUAL_APPLICATION.has(mime) || /\+(?:xml|yaml)$/.test(mime))
    return 'text';
  throw new JobInputError(
    `cannot extract text from ${mime} content: this instance reads HTML, JSON and other text inputs`,
  );
}

/** Plain text of one input. */
export function extractText(input: Pick<ResolvedInput, 'contentType' | 'text'>): string {
  switch (formatOf(input)) {
    case 'html':
      return htmlToText(input.text);
    case 'json':
      try {
        return JSON.stringify(JSON.parse(input.text), null, 2);
      } catch {
        return input.text; // labelled JSON but is not: still text
      }
    case 'text':
      return input.text;
  }
}

export const textExtraction: JobHandler = {
  name: 'text-extraction',
  kinds: [5000],
  needsLlm: false,
  async run(job: JobInput, ctx: HandlerContext): Promise<HandlerOutput> {
    if (job.inputs.length === 0) throw new JobInputError('a text-extraction job needs at least one input');
    const parts = job.inputs
      .map((input) => extractText(input).replace(/^\n+|\s+$/g, ''))
      .filter((part) => part.trim() !== '');
    if (parts.length === 0) throw new JobInputError('no text could be extracted from the input');
    ctx.logger.debug({ job: job.id, inputs: job.inputs.length }, 'text extracted');
    return { content: parts.join('\n\n') };
  },
};
