"""The project index's cost per request: didChange + lookup, typing in a 10,000-line file.

A 10,000-line Python document (standard-library modules, concatenated) is open with 49 more
open documents (other standard-library modules). At random spots of the big document the rest of a
line is cut (a statement start or mid-line), then the line is typed back one character at a time:
each keystroke is one `didChange` (the full text, as the server receives it) and one `lookup`.
Wall time, and the request's CPU time (this thread's; it leaves out the time the OS gave the
core to other processes, which dominates the p95 on shared cores). The same keystrokes go, in
the same run, through a named baseline:

- naive: relex the whole document on every change and look up with a Python scan over every
  token of every document (what a first implementation would do).

A last row adds a workspace (standard-library folders, scanned in the background first) and
looks up with scope "workspace".

    python benchmarks/project_index.py
    python benchmarks/project_index.py --spots 100 --baseline_spots 5
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from server.errors import run_cli  # noqa: E402
from server.project import ProjectIndex, ScanLimits  # noqa: E402
from server.project.documents import OpenDocument  # noqa: E402
from server.project.lexer import KEY_BYTES, pack_keys, split_partial  # noqa: E402
from training.atomic import write_json  # noqa: E402
from training.cpu_features import describe_cpu  # noqa: E402

STDLIB = Path(os.__file__).parent
BIG = "file:///bench/big.py"


def big_document(lines: int) -> str:
    """`lines` lines of standard-library modules, one after another, from the end of the list.

    The standard library, not this repository: the same text for every commit, so runs compare.
    """
    out: list[str] = []
    for path in sorted(STDLIB.glob("*.py"), reverse=True):
        out += path.read_text(errors="replace").split("\n")
        if len(out) >= lines:
            break
    return "\n".join(out[:lines])


def tab_documents(count: int) -> dict[str, str]:
    """`count` standard-library modules of 100 to 2,000 lines."""
    tabs = {}
    for path in sorted(STDLIB.glob("*.py")):
        text = path.read_text(errors="replace")
        if 100 <= text.count("\n") <= 2000:
            tabs[path.as_uri()] = text
        if len(tabs) == count:
            break
    return tabs


class NaiveIndex:
    """The baseline: a full relex per change, a Python scan of every token per lookup."""

    def __init__(self) -> None:
        self.documents: dict[str, list[int]] = {}
        self.texts: dict[str, str] = {}

    def change(self, uri: str, text: str) -> None:
        document = OpenDocument(uri, text)
        self.texts[uri] = text
        self.documents[uri] = list(
            int.from_bytes(document.flat[i : i + KEY_BYTES], "little", signed=True)
            for i in range(0, len(document.flat), KEY_BYTES)
        )

    def lookup(self, uri: str, line: int, character: int) -> int:
        lines = self.texts[uri].split("\n")
        above = "\n".join(lines[:line])
        texts, _, _ = split_partial(lines[line][:character])
        keys = OpenDocument("q", above).flat + pack_keys(texts, newline=False)
        query = [
            int.from_bytes(keys[i : i + KEY_BYTES], "little", signed=True)
            for i in range(0, len(keys), KEY_BYTES)
        ][-64:]
        best = 0
        for tokens in self.documents.values():
            last = query[-1]
            for i, token in enumerate(tokens):
                if token == last:
                    length = 1
                    while length < len(query) and length <= i:
                        if tokens[i - length] != query[-1 - length]:
                            break
                        length += 1
                    best = max(best, length)
        return best


def spots(text: str, count: int, rng: random.Random) -> list[tuple[int, int, int]]:
    """(line, cursor column, typed characters) for `count` cuts: half statement starts."""
    lines = text.split("\n")
    found = []
    while len(found) < count:
        line = rng.randrange(len(lines))
        stripped = lines[line].strip()
        if len(stripped) < 8:
            continue
        indent = len(lines[line]) - len(lines[line].lstrip())
        mid_line = len(found) % 2
        column = indent + (rng.randrange(1, len(stripped) - 4) if mid_line else 0)
        found.append((line, column, min(5, len(lines[line]) - column)))
    return found


def keystrokes(text: str, cut: list[tuple[int, int, int]]):
    """For each spot: steps of (full text, LSP range edit, cursor line, cursor column).

    The first step cuts the line at the cursor, the next ones type it back one character at a
    time, the last one restores the line (and has no cursor).
    """
    lines = text.split("\n")
    for line, column, typed in cut:
        original = lines[line]
        steps = []
        for extra in range(typed + 1):
            lines[line] = original[: column + extra]
            if extra == 0:
                edit = ((line, column), (line, len(original)), "")
            else:
                at = (line, column + extra - 1)
                edit = (at, at, original[column + extra - 1])
            steps.append(("\n".join(lines), edit, line, column + extra))
        lines[line] = original
        at = (line, column + typed)
        steps.append(("\n".join(lines), (at, at, original[column + typed :]), None, None))
        yield steps


def run(index, text: str, cut, scope: str | None, incremental: bool) -> dict[str, list[float]]:
    """Per keystroke: change ms, lookup ms, both; and the jumps (cut or restore a line)."""
    times: dict[str, list[float]] = {
        "change": [], "lookup": [], "request": [], "jump": [], "request_cpu": []
    }  # fmt: skip
    times.update(offered=[], right=[])  # quality sanity check, at the cuts: 1.0 or 0.0 each
    original = text.split("\n")
    for steps in keystrokes(text, cut):
        for number, (typed, edit, line, character) in enumerate(steps):
            cpu_started = time.thread_time()
            started = time.perf_counter()
            if incremental:
                index.edit(BIG, *edit)
            else:
                index.change(BIG, typed)
            changed = time.perf_counter()
            if line is None:
                times["jump"].append((changed - started) * 1000)
                continue
            if scope is None:
                found = index.lookup(BIG, line, character)
            else:
                found = index.lookup(BIG, line, character, scope=scope)
            done = time.perf_counter()
            cpu = (time.thread_time() - cpu_started) * 1000
            if number == 0:
                times["jump"].append((changed - started) * 1000)
                # Quality only with the tabs: the workspace (the standard library) holds the
                # big document's modules whole, the cut lines included.
                if scope == "tabs":
                    times["offered"].append(float(bool(found)))
                    right = bool(found) and found[0].text == original[line][character:].rstrip()
                    times["right"].append(float(right))
                continue
            times["change"].append((changed - started) * 1000)
            times["lookup"].append((done - changed) * 1000)
            times["request"].append((done - started) * 1000)
            times["request_cpu"].append(cpu)
    return times


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return {
        "p50_ms": statistics.median(ordered),
        "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "n": len(ordered),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--tabs", type=int, default=49, help="open documents besides the big one")
    parser.add_argument("--spots", type=int, default=60, help="cuts in the big document")
    parser.add_argument("--baseline_spots", type=int, default=4, help="cuts for the baseline")
    parser.add_argument("--workspace_files", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument(
        "--json", type=Path, default=REPO_ROOT / "benchmarks/results/project_index.json"
    )
    return parser.parse_args(argv)


def resident_mib() -> float:
    """This process's resident memory now (Linux; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def summary(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Percentiles of each timing, and the shares of the quality check."""
    result = {k: percentiles(v) for k, v in times.items() if k not in ("offered", "right")}
    if times["offered"]:
        result["quality"] = {
            "cuts": len(times["offered"]),
            "offered": statistics.mean(times["offered"]),
            "first_exactly_right": statistics.mean(times["right"]),
        }
    return result


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    text = big_document(args.lines)
    tabs = tab_documents(args.tabs)
    rng = random.Random(args.seed)
    cut = spots(text, args.spots, rng)
    print(f"{describe_cpu()}; Python {sys.version.split()[0]}")
    print(f"{text.count(chr(10)) + 1}-line document, {len(tabs)} more open documents")

    rows: dict[str, dict[str, dict[str, float]]] = {}
    rss = {"start": resident_mib()}
    index = ProjectIndex()
    for uri, tab in tabs.items():
        index.open(uri, tab, "python")
    index.open(BIG, text, "python")
    rows["project index, full-text didChange, scope tabs (this)"] = summary(
        run(index, text, cut, "tabs", False)
    )
    rows["project index, incremental didChange, scope tabs (this)"] = summary(
        run(index, text, cut, "tabs", True)
    )
    described = index.describe()
    rss["open documents indexed"] = resident_mib()

    naive = NaiveIndex()
    for uri, tab in tabs.items():
        naive.change(uri, tab)
    naive.change(BIG, text)
    rows["naive: full relex + Python scan (baseline)"] = summary(
        run(naive, text, cut[: args.baseline_spots], None, False)
    )
    del naive

    started = time.perf_counter()
    index.scan_limits = ScanLimits(max_files=args.workspace_files)
    index.add_workspace(STDLIB, [".py"])
    # Requests while the scan runs on its thread (they share the interpreter with it).
    times = run(index, text, cut[: args.spots // 4], "tabs", True)
    if not index.wait_idle(0):
        rows["project index, incremental didChange, scope tabs, during the scan"] = summary(times)
    index.wait_idle(600)
    scan_s = time.perf_counter() - started
    rss["workspace indexed"] = resident_mib()
    with_workspace = index.describe()
    name = (
        f"project index, incremental didChange, scope workspace "
        f"({with_workspace['workspace_files']} files)"
    )
    rows[name] = summary(run(index, text, cut, "workspace", True))
    index.stop()

    print("| path | request p50 / p95, ms | its CPU time p50 / p95 | didChange p50 / p95 | "
          "lookup p50 / p95 | jump (restore or cut a line) p50 / p95 |\n"
          "|---|---|---|---|---|---|")  # fmt: skip
    for row, result in rows.items():
        cells = [
            f"{result[k]['p50_ms']:.2f} / {result[k]['p95_ms']:.2f}"
            for k in ("request", "request_cpu", "change", "lookup", "jump")
        ]
        print(f"| {row} | " + " | ".join(cells) + " |")
    for row, result in rows.items():
        if "quality" in result:
            quality = result["quality"]
            print(f"{row}: a candidate at {quality['offered']:.0%} of {quality['cuts']} cuts, "
                  f"the first exactly the rest of the line at "
                  f"{quality['first_exactly_right']:.0%}")  # fmt: skip
    print("resident memory, MiB: " + ", ".join(f"{k} {v:.0f}" for k, v in rss.items()))
    print(f"index: {described['tokens']} tokens, ~{described['memory_bytes'] / 2**20:.1f} MiB "
          f"(open documents); with the workspace: {with_workspace['tokens']} tokens, "
          f"~{with_workspace['memory_bytes'] / 2**20:.1f} MiB, scanned in {scan_s:.1f} s, "
          f"skipped {with_workspace['skipped']}")  # fmt: skip
    write_json(args.json, {
        "cpu": describe_cpu(), "python": sys.version.split()[0], "lines": args.lines,
        "open_documents": len(tabs) + 1, "results": rows, "resident_mib": rss,
        "index": {k: described[k] for k in ("tokens", "memory_bytes")},
        "workspace": {k: with_workspace[k] for k in ("workspace_files", "tokens",
                                                     "memory_bytes", "skipped")},
        "workspace_scan_s": scan_s,
    })  # fmt: skip
    print(f"wrote {args.json}")


if __name__ == "__main__":
    run_cli(main)
