/**
 * Outcomes queued for Redis's record script, run-length encoded: `S20000;F1;S3` is 20,000
 * successes, then a failure, then 3 successes, in that order. Adding an outcome allocates nothing
 * unless it starts a new run, so a busy breaker's hot path costs the same however many calls one
 * event-loop turn makes, and the script receives a few bytes instead of a token per call.
 *
 * Kinds: `S` success, `F` failure; under the slow-call policy, `s` and `f` are the same outcomes
 * from calls at least `slowCallDuration` long (the duration rounded to whole milliseconds, as
 * Redis always compared it).
 * @internal
 */
export class OutcomeBatch {
  /** Outcomes queued. */
  outcomes = 0;
  /** Failures queued. */
  failures = 0;
  /**
   * Steps the record script will take for this batch: one per outcome, except that a run of
   * successes under the consecutive policy is one step (a success only resets the count).
   */
  work = 0;
  /** Finished runs, `;`-separated. */
  private runs = '';
  private kind = '';
  private count = 0;

  constructor(
    /** The slow-call policy's `slowCallDuration`; `undefined` for the other policies. */
    private readonly slowCallDuration: number | undefined,
    /** Whether the policy is `consecutive` (see {@link work}). */
    private readonly consecutive: boolean,
  ) {}

  add(failed: boolean, duration: number): void {
    let kind = failed ? 'F' : 'S';
    const slow = this.slowCallDuration;
    if (slow !== undefined && (duration === duration ? Math.round(duration) : 0) >= slow) {
      kind = failed ? 'f' : 's';
    }
    this.outcomes++;
    if (failed) this.failures++;
    if (kind === this.kind) {
      this.count++;
      if (failed || !this.consecutive) this.work++;
      return;
    }
    if (this.count > 0)
      this.runs += this.runs === '' ? this.kind + this.count : `;${this.kind}${this.count}`;
    this.kind = kind;
    this.count = 1;
    this.work++;
  }

  /** The batch in the record script's format. */
  encode(): string {
    if (this.count === 0) return this.runs;
    const last = this.kind + this.count;
    return this.runs === '' ? last : `${this.runs};${last}`;
  }

  clear(): void {
    this.outcomes = this.failures = this.work = this.count = 0;
    this.runs = this.kind = '';
  }
}
