/**
 * Waits until an asynchronous check holds (a relay query, say), asking again every `everyMs`; throws naming
 * `what` after `timeoutMs`. A generous bound, never a fixed sleep: a loaded machine only takes longer.
 */
export async function untilAsync(
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
  what = 'condition',
  everyMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
