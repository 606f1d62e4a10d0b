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
} from '../../../dvm/handler.ts';
import { htmlToText } from './html.ts';

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
      .map((input) => extractText(input).replace(/^\n+/, '').trimEnd())
      .filter((part) => part.trim() !== '');
    if (parts.length === 0) throw new JobInputError('no text could be extracted from the input');
    ctx.logger.debug({ job: job.id, inputs: job.inputs.length }, 'text extracted');
    return { content: parts.join('\n\n') };
  },
};
