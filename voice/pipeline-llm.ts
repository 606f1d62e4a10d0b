/** A model's answer as pieces of text while it is generated (`onToken`), for the pipeline to speak early. */
import type { CompletionRequest, LlmProvider } from '../llm/provider.ts';

/**
 * Streams `request`'s answer. Providers that do not stream give the whole text at the end; a failure rejects
 * the iteration with the provider's error.
 */
export async function* streamCompletion(
  llm: LlmProvider,
  request: Omit<CompletionRequest, 'onToken'>,
): AsyncGenerator<string> {
  const pieces: string[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let failure: unknown;
  let streamed = false;
  const done = llm
    .complete({
      ...request,
      onToken: (t) => {
        streamed = true;
        pieces.push(t);
        wake?.();
      },
    })
    .then(
      (c) => {
        if (!streamed) pieces.push(c.text);
      },
      (err: unknown) => {
        failure = err ?? new Error('the model failed');
      },
    )
    .finally(() => {
      finished = true;
      wake?.();
    });
  while (true) {
    const piece = pieces.shift();
    if (piece !== undefined) {
      yield piece;
      continue;
    }
    if (finished) break;
    await new Promise<void>((r) => {
      wake = r;
    });
    wake = undefined;
  }
  await done;
  if (failure !== undefined) throw failure;
}
