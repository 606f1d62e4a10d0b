import type { JobHandler } from '../../dvm/handler.ts';
import type { Persona } from '../persona.ts';
import { createTextGenerationHandler, findHandler, HANDLER_NAMES } from './handlers/index.ts';
import type { WorkerServe } from './worker.ts';

/**
 * The handlers a persona's `serves` entries name, checked: the handler exists and can serve that kind.
 * Language-model handlers get the persona's system prompt (its voice). `built` holds handlers the
 * composition root built with their engines (the voice handlers: speech to text, text to speech); they
 * replace the built-in ones of the same name. Throws Error with the agent and entry named; the caller
 * reports it as a persona-file error.
 */
export function resolveServes(
  persona: Persona,
  built: ReadonlyMap<string, JobHandler> = new Map(),
): WorkerServe[] {
  return persona.serves.map((s, i) => {
    const handler = findHandler(s.handler);
    if (!handler) {
      throw new Error(
        `agent "${persona.name}" serves.${i}: unknown handler "${s.handler}" (known: ${HANDLER_NAMES.join(', ')})`,
      );
    }
    if (!handler.kinds.includes(s.kind)) {
      throw new Error(
        `agent "${persona.name}" serves.${i}: handler "${s.handler}" serves kind ${handler.kinds.join(', ')}, not ${s.kind}`,
      );
    }
    const systemPrompt = handler.needsLlm ? persona.systemPrompt : '';
    return {
      kind: s.kind,
      handler: built.get(s.handler) ?? handlerFor(s.handler, systemPrompt) ?? handler,
      priceMsats: s.priceMsats,
      systemPrompt,
    };
  });
}

/** The handler of that name, built with this system prompt where it takes one (also used by replay). */
export function handlerFor(name: string, systemPrompt: string): JobHandler | undefined {
  if (name === 'text-generation' && systemPrompt) return createTextGenerationHandler({ systemPrompt });
  return findHandler(name);
}
