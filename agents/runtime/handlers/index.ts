/**
 * The built-in job handlers, by the names persona files use. Personas that need their own system prompt
 * (a writer, a coder) build their handler with createTextGenerationHandler instead.
 */
import type { JobHandler } from '../../../dvm/handler.ts';
import { echo } from './echo.ts';
import { extractiveSummary } from './extractive-summary.ts';
import { textGeneration, translation } from './llm-text.ts';
import { memorySearch } from './memory-search.ts';
import { textExtraction } from './text-extraction.ts';

export { createTextGenerationHandler, createTranslationHandler } from './llm-text.ts';

export const HANDLER_NAMES = [
  'echo',
  'extractive-summary',
  'memory-search',
  'text-extraction',
  'text-generation',
  'translation',
] as const;

export type HandlerName = (typeof HANDLER_NAMES)[number];

export function builtinHandlers(): JobHandler[] {
  return [echo, extractiveSummary, memorySearch, textExtraction, textGeneration, translation];
}

export function isHandlerName(name: string): name is HandlerName {
  return (HANDLER_NAMES as readonly string[]).includes(name);
}

export function findHandler(name: string): JobHandler | undefined {
  return builtinHandlers().find((h) => h.name === name);
}
