/**
 * One line per check (`PASS`, `FAIL`, `SKIP`, `INFO`), the operations exercised or skipped, and
 * the closing `N passed, N failed` line CI greps for.
 */

/** Thrown when a step cannot go on (its result is needed by the next ones); already reported. */
export class StepFailed extends Error {}

export class Report {
  passed = 0;
  failed = 0;
  /** operationIds a real response was checked for. */
  readonly exercised = new Set<string>();
  /** operationIds deliberately not exercised, with the reason. */
  readonly skipped = new Map<string, string>();
  readonly lines: string[] = [];
  readonly #write: (line: string) => void;

  constructor(write: (line: string) => void = (line) => console.log(line)) {
    this.#write = write;
  }

  #line(kind: string, name: string, detail: string): void {
    const line = `${kind.padEnd(4)}  ${name}${detail ? `  ${detail}` : ''}`;
    this.lines.push(line);
    this.#write(line);
  }

  pass(name: string, detail = ''): void {
    this.passed += 1;
    this.#line('PASS', name, detail);
  }

  fail(name: string, detail: string): void {
    this.failed += 1;
    this.#line('FAIL', name, detail);
  }

  /** Reports and throws: the caller's step cannot continue. */
  abort(name: string, detail: string): never {
    this.fail(name, detail);
    throw new StepFailed(`${name}: ${detail}`);
  }

  skip(operationId: string, reason: string): void {
    this.skipped.set(operationId, reason);
    this.#line('SKIP', operationId, reason);
  }

  info(text: string): void {
    this.#line('INFO', text, '');
  }

  /** The last line: `N passed, N failed` (skips are listed above it, they are not failures). */
  summary(): string {
    if (this.skipped.size > 0) this.#write(`${this.skipped.size} skipped: ${[...this.skipped.keys()].join(', ')}`);
    const line = `${this.passed} passed, ${this.failed} failed`;
    this.#write(line);
    return line;
  }
}
