/**
 * When to restart a server that stopped on its own: a few times, then never again.
 *
 * A server that crashes once (a bug, an out-of-memory kill) deserves a restart; one that crashes
 * at every start (a broken install) must not be restarted forever, flashing notifications. This
 * counts the crashes inside a sliding time window; once the budget is spent, the extension stops
 * and says so, and only the user's "Restart Server" command (which calls `reset`) tries again.
 */

export class RestartPolicy {
  private crashes: number[] = [];

  constructor(
    readonly maxRestarts = 3,
    readonly windowMs = 3 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a crash; returns whether to restart the server after it. */
  shouldRestart(): boolean {
    const now = this.now();
    this.crashes = this.crashes.filter((time) => now - time < this.windowMs);
    this.crashes.push(now);
    return this.crashes.length <= this.maxRestarts;
  }

  /** Forgets past crashes: the user asked for a restart. */
  reset(): void {
    this.crashes = [];
  }
}
