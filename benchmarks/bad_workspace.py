"""Bad input for the project index, through the real language server: issue 19's checklist.

A workspace is built in a temporary folder with everything a real one can throw at the index's
background scan: a symlink loop (a folder link to its parent, a link to itself), an unreadable
folder (chmod 000), a 50 MB `.py` file, `.py` files of binary bytes, links to a file and a
folder outside the workspace, denied files (`secrets.py`, `.env.py`, `.ssh/`, `.git/`), a
`.gitignore`d folder, and 5,000 small files. `python -m server` starts on it with its default
settings, a document is opened (which starts the scan), and requests are sent while the scan
runs and after it. Each bad file holds a probe, `def probe_<kind>():` returning a marker
`LEAK_<kind>`; the opened document ends each of those functions at `return `, so a copy engine
that had indexed any of them would propose its marker. Checked:

- the first non-empty suggestion arrives within 5 s of opening the document;
- the workspace's good files are indexed all the same (a probe only they hold comes back);
- the server's resident memory (VmRSS, /proc) grows by at most 200 MB from before the document
  is opened to the scan's end;
- nothing crashes, every request gets its answer;
- no suggestion holds text from outside the workspace, a denied or ignored file, a file too
  big or binary, or the unreadable folder. As root, permissions do not block reads: the
  unreadable folder is then readable, and its row says so instead of passing or failing.

    python benchmarks/bad_workspace.py                # ~1 minute; writes a 50 MB file to /tmp
    python benchmarks/bad_workspace.py --files 500 --huge_mb 5   # a quick smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.lsp_client import (  # noqa: E402
    inline_completion,
    position_of,
    relative,
    server_pid,
    server_running,
    server_status,
    start_server,
    stop_server,
)
from nanopilot_models import DEFAULT_MODEL  # noqa: E402
from server.errors import UserError, run_cli  # noqa: E402
from server.local.options import DEFAULT_THREADS  # noqa: E402
from training.atomic import write_json  # noqa: E402
from training.cpu_features import describe_cpu  # noqa: E402

FIRST_SUGGESTION_GOAL_S = 5.0
MEMORY_GOAL_MIB = 200.0
ANSWER_TIMEOUT_S = 30.0
SCAN_TIMEOUT_S = 300.0
LEAK = "LEAK_"
CHECK_FIELDS = ("check", "measured", "result")
# The bad files' probes, each a kind of input that must never become ghost text.
LEAK_KINDS = ("huge", "binary", "outside_file", "outside_folder", "denied_secrets", "denied_env",
              "denied_ssh", "denied_git", "ignored", "unreadable")  # fmt: skip
GOOD = "workspace"  # the probe that only the good small files hold
GOOD_MARKER = "FOUND_IN_WORKSPACE"
FILE = "file"  # a probe the opened document answers itself: no scan needed
FILE_MARKER = "FOUND_IN_FILE"


@dataclass(frozen=True)
class Probe:
    kind: str
    line: int  # the `return ` line's position in the opened document
    column: int


def probe(kind: str, value: str) -> str:
    return f'def probe_{kind}():\n    return "{value}"\n'


def write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)


def leak(kind: str) -> str:
    """The probe of a file whose text must never be suggested."""
    return probe(kind, LEAK + kind)


def build_bad_workspace(root: Path, outside: Path, files: int, huge_mb: int) -> None:
    """Everything the scan must survive and keep out, in `root`; `outside` is beside it."""
    for number in range(files):  # small good files, 100 to a folder
        body = f"def helper_{number}(value):\n    return value + {number}\n"
        if number % 500 == 0:
            body += probe(GOOD, GOOD_MARKER)
        write(root / "pkg" / f"m{number // 100:03d}" / f"f{number:05d}.py", body)
    (root / "loop").mkdir()
    (root / "loop" / "parent").symlink_to("..", target_is_directory=True)
    (root / "loop" / "self.py").symlink_to("self.py")
    filler = "x = 1  # filler to make the file huge\n" * (huge_mb * 2**20 // 38 + 1)
    write(root / "huge.py", leak("huge") + filler)
    rng = random.Random(19)
    for number in range(20):
        noise = bytes(rng.randrange(256) for _ in range(4096))
        blob = noise + leak("binary").encode() + b"\0" + noise
        write(root / "binary" / f"blob_{number}.py", blob)
    write(outside / "credentials_copy.py", leak("outside_file"))
    write(outside / "folder" / "module.py", leak("outside_folder"))
    (root / "config.py").symlink_to(outside / "credentials_copy.py")
    (root / "shared").symlink_to(outside / "folder", target_is_directory=True)
    write(root / "secrets.py", leak("denied_secrets"))
    write(root / ".env.py", leak("denied_env"))
    write(root / ".ssh" / "keys.py", leak("denied_ssh"))
    write(root / ".git" / "hooks.py", leak("denied_git"))
    write(root / ".gitignore", "generated/\n")
    write(root / "generated" / "out.py", leak("ignored"))
    write(root / "locked" / "private.py", leak("unreadable"))
    (root / "locked").chmod(0)


def permissions_block(root: Path) -> bool:
    """Whether chmod 000 really keeps this process out of the locked folder: as root (or with
    CAP_DAC_OVERRIDE) it does not, and the server, run by the same user, can read it."""
    try:
        os.listdir(root / "locked")
    except PermissionError:
        return True
    return False


def unlock(root: Path) -> None:
    """Make the unreadable folder removable again."""
    (root / "locked").chmod(0o755)


def probe_document(kinds: list[str]) -> tuple[str, list[Probe]]:
    """A document ending each probe at `return ` (and answering the `file` probe once itself)."""
    text = "import os\n\n\n" + probe(FILE, FILE_MARKER) + "\n\n"
    probes = []
    for kind in [FILE, GOOD, *kinds]:
        text += f"def probe_{kind}():\n    return "
        probes.append(Probe(kind, *position_of(text)))
        text += "\n\n\n"
    return text, probes


def resident_mib(pid: int) -> float:
    """A process's resident memory (VmRSS), from /proc: psutil is not a dependency."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise UserError(f"no VmRSS for process {pid}")


def suggestion_text(answer: object) -> str:
    """The text of an inline completion answer, '' for none."""
    items = answer.items if isinstance(answer, types.InlineCompletionList) else answer or []
    return "".join(str(item.insert_text) for item in items)


class Answers:
    """Every request sent and every answer (or its failure), for the checks at the end."""

    def __init__(self, client: LanguageClient, uri: str) -> None:
        self.client, self.uri = client, uri
        self.sent = 0
        self.failed: list[str] = []
        self.texts: list[tuple[str, str]] = []  # (kind, suggestion)

    async def ask(self, spot: Probe) -> str:
        self.sent += 1
        try:
            answer = await asyncio.wait_for(
                inline_completion(self.client, self.uri, spot.line, spot.column), ANSWER_TIMEOUT_S
            )
        except Exception as err:  # a timeout or an error response: the request went unanswered
            self.failed.append(f"{spot.kind}: {type(err).__name__}: {err}")
            return ""
        text = suggestion_text(answer)
        self.texts.append((spot.kind, text))
        return text

    async def until(self, spot: Probe, done: Callable[[str], bool], timeout: float) -> float | None:
        """Ask at `spot` until an answer satisfies `done`: seconds from now, None if never."""
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            if done(await self.ask(spot)):
                return time.perf_counter() - started
            await asyncio.sleep(0.05)
        return None


async def wait_for_scan(client: LanguageClient, pid: int) -> tuple[dict, float]:
    """Poll the status until the scan ends: the final index figures, the peak VmRSS seen."""
    deadline = time.monotonic() + SCAN_TIMEOUT_S
    peak = resident_mib(pid)
    while True:
        index = (await server_status(client))["index"]
        peak = max(peak, resident_mib(pid))
        if not index["scanning"] or time.monotonic() > deadline:
            return index, peak
        await asyncio.sleep(0.1)


async def run(args: argparse.Namespace, root: Path) -> dict:
    """Start the server on `root`, open the probe document, ask, and gather the figures."""
    client = await start_server(args.model, args.threads, {}, root)
    pid = server_pid(client)
    before = resident_mib(pid)
    uri = (root / "session.py").as_uri()  # an unsaved buffer in the workspace
    text, probes = probe_document(list(LEAK_KINDS))
    answers = Answers(client, uri)
    opened = time.perf_counter()
    item = types.TextDocumentItem(uri, "python", 1, text)
    client.text_document_did_open(types.DidOpenTextDocumentParams(item))
    first_s = await answers.until(probes[0], bool, SCAN_TIMEOUT_S)
    # A burst while the scan may still run (a fast disk may have finished it): every request
    # must come back.
    burst_during_scan = (await server_status(client))["index"]["scanning"]
    await asyncio.gather(*(answers.ask(spot) for spot in probes * 3))
    good_s = await answers.until(probes[1], lambda t: GOOD_MARKER in t, SCAN_TIMEOUT_S)
    good_s = None if good_s is None else time.perf_counter() - opened
    index, peak = await wait_for_scan(client, pid)
    after = resident_mib(pid)
    for spot in probes:  # once more, with everything the scan keeps
        await answers.ask(spot)
    alive = server_running(client)
    status = await server_status(client)
    await stop_server(client)
    return {
        "first_suggestion_s": first_s,
        "workspace_suggestion_s": good_s,
        "rss_before_mib": before,
        "rss_after_mib": after,
        "rss_peak_seen_mib": peak,
        "requests": answers.sent,
        "burst_during_scan": burst_during_scan,
        "unanswered": answers.failed,
        "alive": alive and status["state"] == "ready",
        "leaks": sorted({kind for kind, t in answers.texts for k in LEAK_KINDS if LEAK + k in t}),
        "index": {k: index[k] for k in ("workspace_files", "tokens", "memory_bytes", "skipped")},
    }


def checks(figures: dict, readable_anyway: bool) -> list[tuple[str, str, str]]:
    """(check, measured, pass / FAIL / n/a) rows."""
    first = figures["first_suggestion_s"]
    good = figures["workspace_suggestion_s"]
    growth = figures["rss_after_mib"] - figures["rss_before_mib"]
    peak = figures["rss_peak_seen_mib"] - figures["rss_before_mib"]
    leaks = set(figures["leaks"])

    def verdict(ok: bool) -> str:
        return "pass" if ok else "FAIL"

    rows = [
        (f"first suggestion <= {FIRST_SUGGESTION_GOAL_S:.0f} s",
         "never" if first is None else f"{first:.2f} s",
         verdict(first is not None and first <= FIRST_SUGGESTION_GOAL_S)),
        ("good workspace files indexed all the same",
         "never" if good is None else f"after {good:.2f} s", verdict(good is not None)),
        (f"resident memory growth <= {MEMORY_GOAL_MIB:.0f} MB",
         f"{growth:+.0f} MiB (peak seen {peak:+.0f})",
         verdict(growth <= MEMORY_GOAL_MIB)),
        ("no crash", "server alive and ready" if figures["alive"] else "server gone",
         verdict(figures["alive"])),
        ("every request answered",
         f"{figures['requests'] - len(figures['unanswered'])} of {figures['requests']} "
         f"(a burst {'while' if figures['burst_during_scan'] else 'after'} the scan ran)",
         verdict(not figures["unanswered"])),
    ]  # fmt: skip
    for kind in LEAK_KINDS:
        leaked = kind in leaks
        if kind == "unreadable" and readable_anyway:
            note = "read: chmod 000 blocks nothing here (root)"
            rows.append((f"nothing from {kind}", note if leaked else "not suggested", "n/a"))
            continue
        rows.append((f"nothing from {kind}", "SUGGESTED" if leaked else "not suggested",
                     verdict(not leaked)))  # fmt: skip
    return rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="model directory")
    parser.add_argument("--files", type=int, default=5000, help="small good files")
    parser.add_argument("--huge_mb", type=int, default=50, help="size of the huge .py file")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument(
        "--json", type=Path, default=REPO_ROOT / "benchmarks" / "results" / "bad_workspace.json"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the checks, print the table, write the JSON; exit status 1 when a check failed."""
    args = parse_args(argv)
    if not (args.model / "config.json").is_file():
        raise UserError(f"no model in {args.model}; train one with `python -m training.finetune`")
    print(f"{describe_cpu()}; {args.threads} thread(s)")
    with tempfile.TemporaryDirectory(prefix="nanopilot-bad-") as folder:
        root, outside = Path(folder) / "workspace", Path(folder) / "outside"
        build_bad_workspace(root, outside, args.files, args.huge_mb)
        readable_anyway = not permissions_block(root)
        if readable_anyway:
            print("chmod 000 blocks nothing here (root?): the unreadable folder is readable")
        try:
            figures = asyncio.run(run(args, root))
        finally:
            unlock(root)
    rows = checks(figures, readable_anyway)
    print(f"\n| {'check':<42} | {'measured':<44} | result |\n|{'-' * 44}|{'-' * 46}|--------|")
    for check, measured, result in rows:
        print(f"| {check:<42} | {measured:<44} | {result:<6} |")
    print(f"index: {figures['index']['workspace_files']} files, {figures['index']['tokens']} "
          f"tokens, skipped {figures['index']['skipped']}")  # fmt: skip
    passed = all(result != "FAIL" for _, _, result in rows)
    figures |= {"cpu": describe_cpu(), "model": relative(args.model), "files": args.files,
                "huge_mb": args.huge_mb, "readable_anyway": readable_anyway, "passed": passed,
                "checks": [dict(zip(CHECK_FIELDS, row, strict=True)) for row in rows]}  # fmt: skip
    write_json(args.json, figures)
    print(f"{'all checks passed' if passed else 'SOME CHECKS FAILED'}; wrote {args.json}")
    return 0 if passed else 1


if __name__ == "__main__":
    run_cli(main)
