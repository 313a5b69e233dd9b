/**
 * The closing line of `npm test`, pure so it can be table-tested: `N passed, N failed` counts the
 * tap tests only (never the steps around them), and any other failure (a contract check, the
 * system packages, PostgreSQL, the migrations, tap ending without its summary or with an exit code
 * its counts do not explain) is named on the same line after `FAILED:`, so the last line of a
 * failed run always says failed.
 */
export interface TapRun {
  code: number;
  output: string;
}

export interface TestSummary {
  passed: number;
  failed: number;
  skipped: number;
  /** Failures that are not failed tests, by name. */
  problems: string[];
  ok: boolean;
  line: string;
}

/** tap's closing line, e.g. `# { total: 12, pass: 10, fail: 1, skip: 1 }`, as counts. */
export function tapCounts(output: string): Record<string, number> | undefined {
  const matches = [...output.matchAll(/^# \{ (total: \d+[^}]*) \}$/gm)];
  const last = matches.at(-1);
  if (!last) return undefined;
  return Object.fromEntries(
    last[1]!
      .split(', ')
      .map((pair) => pair.split(': '))
      .map(([key, value]) => [key!, Number(value)]),
  );
}

/**
 * `tap` is undefined when tap never ran (something before it failed: that is in `problems`).
 * Skipped tests (a `--grep` while iterating; the suite itself skips nothing) are reported as
 * skipped, not failed.
 */
export function summarize(tap: TapRun | undefined, earlierProblems: readonly string[]): TestSummary {
  const problems = [...earlierProblems];
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  if (tap) {
    const counts = tapCounts(tap.output);
    if (!counts) {
      problems.push(`tap printed no summary (exit ${tap.code})`);
    } else {
      passed = counts.pass ?? 0;
      failed = counts.fail ?? 0;
      skipped = (counts.skip ?? 0) + (counts.todo ?? 0);
      // A crashed file or a timeout fails the run without a failing test to count.
      if (tap.code !== 0 && failed === 0) problems.push(`tap exited ${tap.code} without a failed test`);
      if (counts.total === 0) problems.push('tap ran no tests');
    }
  } else if (problems.length === 0) {
    problems.push('tap did not run');
  }
  const ok = problems.length === 0 && failed === 0;
  const line =
    `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}` + (problems.length > 0 ? `; FAILED: ${problems.join('; ')}` : '');
  return { passed, failed, skipped, problems, ok, line };
}
