/**
 * The last lines a process wrote to stderr, so that a server that dies while starting can be
 * reported with its own last words (an ImportError, a bad flag) instead of "connection closed".
 */

export class StderrTail {
  private lines: string[] = [];

  constructor(readonly size = 20) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.size) {
      this.lines.shift();
    }
  }

  clear(): void {
    this.lines = [];
  }

  /** The most telling line: the last one that is neither blank nor part of a traceback's frames. */
  lastError(): string | undefined {
    const telling = this.lines.filter(
      (line) =>
        line.trim() !== '' && !/^\s*(File "|Traceback \(most recent call last\))/.test(line),
    );
    return telling.at(-1)?.trim();
  }
}
