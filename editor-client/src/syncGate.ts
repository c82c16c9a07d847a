/**
 * Which open documents the server must not see: those that match a `nanopilot.exclude` glob
 * (secrets, generated files). The language client opens every file of its document selector to
 * the server and then sends its changes, saves and close; its middleware asks this gate about
 * each notification, by document URI, and drops the ones the server must not get.
 *
 * The client keeps sending a withheld document's events to the middleware (it counts the document
 * as open whatever the middleware did), so the gate remembers what it withheld until the close.
 * When `nanopilot.exclude` changes, `update` says which open documents the server must now be
 * told about, or must forget: the server holds exactly the open documents that no glob excludes.
 */

export class SyncGate {
  /** Withheld documents' URIs. */
  private readonly withheld = new Set<string>();

  /** didOpen: whether to send it. `excluded`: the document matches an exclude glob. */
  open(uri: string, excluded: boolean): boolean {
    if (excluded) {
      this.withheld.add(uri);
    }
    return !excluded;
  }

  /** didChange, didSave, willSave: whether to send it; completion requests: whether to ask. */
  passes(uri: string): boolean {
    return !this.withheld.has(uri);
  }

  /** didClose: whether to send it (not for a document the server never had). */
  close(uri: string): boolean {
    return !this.withheld.delete(uri);
  }

  /**
   * The exclude globs changed: `open` when the server must now get the document (a didOpen with
   * its current text), `close` when it must forget it (a didClose), undefined for no change.
   */
  update(uri: string, excluded: boolean): 'open' | 'close' | undefined {
    if (excluded === this.withheld.has(uri)) {
      return undefined;
    }
    if (excluded) {
      this.withheld.add(uri);
      return 'close';
    }
    this.withheld.delete(uri);
    return 'open';
  }
}
