/**
 * Waits for a state instead of sleeping and hoping: polls `check` (sync or async) until it holds,
 * and throws naming `what` after `timeoutMs` (a bound against hanging, not a timing assertion).
 */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
