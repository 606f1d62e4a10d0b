/**
 * The target language of a translation job, from its `language` param: an ISO 639-1 code ("es"), a code
 * with a region or script ("pt-BR", "zh_Hant"), or a language name in English or in the language itself
 * ("Spanish", "español"). Unknown two-letter codes are refused; other unknown names that look like a
 * language name are passed on to the model as written.
 */
import { JobInputError } from '../../../dvm/handler.ts';
import { shown } from './params.ts';

const CODES: Record<string, string> = Object.fromEntries(
  (
    'af Afrikaans|am Amharic|ar Arabic|az Azerbaijani|be Belarusian|bg Bulgarian|bn Bengali|bs Bosnian|' +
    'ca Catalan|cs Czech|cy Welsh|da Danish|de German|el Greek|en English|eo Esperanto|es Spanish|' +
    'et Estonian|eu Basque|fa Persian|fi Finnish|fr French|ga Irish|gl Galician|gu Gujarati|ha Hausa|' +
    'he Hebrew|hi Hindi|hr Croatian|ht Haitian Creole|hu Hungarian|hy Armenian|id Indonesian|ig Igbo|' +
    'is Icelandic|it Italian|ja Japanese|jv Javanese|ka Georgian|kk Kazakh|km Khmer|kn Kannada|ko Korean|' +
    'ku Kurdish|ky Kyrgyz|la Latin|lb Luxembourgish|lo Lao|lt Lithuanian|lv Latvian|mg Malagasy|mi Maori|' +
    'mk Macedonian|ml Malayalam|mn Mongolian|mr Marathi|ms Malay|mt Maltese|my Burmese|nb Norwegian Bokmål|' +
    'ne Nepali|nl Dutch|nn Norwegian Nynorsk|no Norwegian|pa Punjabi|pl Polish|ps Pashto|pt Portuguese|' +
    'ro Romanian|ru Russian|rw Kinyarwanda|si Sinhala|sk Slovak|sl Slovenian|so Somali|sq Albanian|' +
    'sr Serbian|sv Swedish|sw Swahili|ta Tamil|te Telugu|tg Tajik|th Thai|tk Turkmen|tl Tagalog|tr Turkish|' +
    'tt Tatar|uk Ukrainian|ur Urdu|uz Uzbek|vi Vietnamese|xh Xhosa|yi Yiddish|yo Yoruba|zh Chinese|zu Zulu'
  )
    .split('|')
    .map((entry) => [entry.slice(0, 2), entry.slice(3)]),
);

/** Names in the language itself and common other names, lower case, to their code. */
const ALIASES: Record<string, string> = {
  español: 'es',
  espanol: 'es',
  castellano: 'es',
  français: 'fr',
  francais: 'fr',
  deutsch: 'de',
  italiano: 'it',
  português: 'pt',
  portugues: 'pt',
  nederlands: 'nl',
  polski: 'pl',
  svenska: 'sv',
  norsk: 'no',
  dansk: 'da',
  suomi: 'fi',
  türkçe: 'tr',
  turkce: 'tr',
  русский: 'ru',
  українська: 'uk',
  ελληνικά: 'el',
  עברית: 'he',
  العربية: 'ar',
  فارسی: 'fa',
  farsi: 'fa',
  हिन्दी: 'hi',
  हिंदी: 'hi',
  বাংলা: 'bn',
  中文: 'zh',
  汉语: 'zh',
  普通话: 'zh',
  mandarin: 'zh',
  日本語: 'ja',
  한국어: 'ko',
  'tiếng việt': 'vi',
  'bahasa indonesia': 'id',
  'bahasa melayu': 'ms',
  kiswahili: 'sw',
  magyar: 'hu',
  čeština: 'cs',
  română: 'ro',
  hrvatski: 'hr',
  srpski: 'sr',
  slovenčina: 'sk',
  filipino: 'tl',
};
const NAMES = new Map(Object.entries(CODES).map(([code, name]) => [name.toLowerCase(), code]));
const CHINESE_SCRIPTS: Record<string, string> = {
  hans: 'Chinese (Simplified)',
  cn: 'Chinese (Simplified)',
  sg: 'Chinese (Simplified)',
  hant: 'Chinese (Traditional)',
  tw: 'Chinese (Traditional)',
  hk: 'Chinese (Traditional)',
  mo: 'Chinese (Traditional)',
};

export const LANGUAGE_HOW_TO =
  'add the tag ["param", "language", "es"] with an ISO 639-1 code or a language name such as "Spanish"';

/** The language's English name for the prompt ("Spanish", "Portuguese (pt-BR)"); JobInputError if unusable. */
export function resolveLanguage(raw: string | undefined): string {
  const value = raw?.trim() ?? '';
  if (value === '')
    throw new JobInputError(`a translation job needs the target language: ${LANGUAGE_HOW_TO}`);
  const lower = value.toLowerCase();
  const tag = /^([a-z]{2})(?:[-_]([a-z0-9]{2,8}))*$/i.exec(value);
  if (tag) {
    const code = (tag[1] ?? '').toLowerCase();
    const name = CODES[code];
    if (name === undefined)
      throw new JobInputError(`unknown language code "${shown(value)}": ${LANGUAGE_HOW_TO}`);
    if (value.length === 2) return name;
    const subtag = lower.split(/[-_]/)[1] ?? '';
    return (code === 'zh' ? CHINESE_SCRIPTS[subtag] : undefined) ?? `${name} (${value})`;
  }
  const code = NAMES.get(lower) ?? ALIASES[lower];
  if (code !== undefined) return CODES[code] ?? value;
  if (/^\p{L}[\p{L}\p{M} '()-]{1,39}$/u.test(value)) return value;
  throw new JobInputError(`"${shown(value)}" is not a language: ${LANGUAGE_HOW_TO}`);
}
