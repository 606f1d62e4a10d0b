/**
 * The built-in job handlers, by the names persona files use. Personas that need their own system prompt
 * (a writer, a coder) build their handler with createTextGenerationHandler instead.
 */
import type { JobHandler } from '../../../dvm/handler.ts';
import { echo } from './echo.ts';
import { extractiveSummary } from './extractive-summary.ts';
import { textGeneration, translation } from './llm-text.ts';
import { memorySearch } from './memory-search.ts';
import { speechToText } from './speech-to-text.ts';
import { textExtraction } from './text-extraction.ts';
import { textToSpeech } from './text-to-speech.ts';

export { createTextGenerationHandler, createTranslationHandler } from './llm-text.ts';

export const HANDLER_NAMES = [
  'echo',
  'extractive-summary',
  'memory-search',
  'speech-to-text',
  'text-extraction',
  'text-generation',
  'text-to-speech',
  'translation',
] as const;

/** The handlers that need the voice engines: built by the composition root, their agents started only with them. */
export const VOICE_HANDLER_NAMES: readonly HandlerName[] = ['speech-to-text', 'text-to-speech'];

export type HandlerName = (typeof HANDLER_NAMES)[number];

export function builtinHandlers(): JobHandler[] {
  return [
    echo,
    extractiveSummary,
    memorySearch,
    speechToText,
    textExtraction,
    textGeneration,
    textToSpeech,
    translation,
  ];
}

export function isHandlerName(name: string): name is HandlerName {
  return (HANDLER_NAMES as readonly string[]).includes(name);
}

export function findHandler(name: string): JobHandler | undefined {
  return builtinHandlers().find((h) => h.name === name);
}
