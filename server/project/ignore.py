"""Which paths the project index may read: gitignore rules, our own ignore file, a deny list.

- `.gitignore` files anywhere in the workspace, with git's rules: last matching pattern wins, a
  deeper file's patterns after a shallower one's, `!` re-includes, a pattern with a slash is
  anchored to its file's folder, a trailing slash matches folders only, `*`, `?`, `[...]` and
  `**`. As in git, a path inside an ignored folder stays ignored: bring the folder back instead.
- `.nanopilotignore` files, read after every `.gitignore`, so their patterns win: `!build/` in
  one brings back a folder that `.gitignore` hides.
- The deny list (`DENIED_NAMES`, `DENIED_FOLDERS`): secrets, keys and certificates, `.git`. It is
  checked on every component of the path and of the path a link resolves to, it applies to open
  documents too, and no `!` can bring a denied path back.

Written here rather than taken from `pathspec` to keep the server's dependencies as they are.
"""

from __future__ import annotations

import fnmatch
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

IGNORE_FILES = (".gitignore", ".nanopilotignore")

# Secrets stay out even when the user opens them in a tab. fnmatch patterns, on a file's name.
DENIED_NAMES = (
    ".env", ".env.*", ".envrc", "*.env",
    "*.pem", "*.key", "*.crt", "*.cer", "*.der", "*.p12", "*.pfx", "*.p8", "*.jks",
    "*.keystore", "*.kdbx", "*.gpg", "*.pgp", "*.asc", "*.ppk", "*.tfstate", "*.tfstate.*",
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "*_rsa", "*_ed25519",
    ".netrc", "_netrc", ".pgpass", ".npmrc", ".pypirc", ".git-credentials", ".htpasswd",
    "credentials", "credentials.*", "*credentials*.json", "secrets.*", "*.secret", "*.secrets",
    "known_hosts", "authorized_keys",
)  # fmt: skip
# Folders whose whole content is denied, at any depth.
DENIED_FOLDERS = (
    ".git", ".hg", ".svn", ".ssh", ".aws", ".gnupg", ".azure", ".kube", ".docker", "gcloud",
)  # fmt: skip
_DENIED_NAME = re.compile("|".join(fnmatch.translate(p) for p in DENIED_NAMES), re.IGNORECASE)


def is_denied(path: str | os.PathLike[str]) -> bool:
    """True for a path on the deny list: a secret's name, or anything under a denied folder."""
    parts = PurePosixPath(Path(path).as_posix()).parts
    if not parts:
        return False
    if _DENIED_NAME.match(parts[-1]):
        return True
    return any(part in DENIED_FOLDERS for part in parts[:-1]) or parts[-1] in DENIED_FOLDERS


def _translate(pattern: str) -> str:
    """A gitignore glob (slashes already dealt with) as a regular expression."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**/", i):
                out.append("(?:.*/)?")
                i += 3
                continue
            if pattern.startswith("**", i) and i + 2 == n:
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 2 if pattern.startswith("[!", i) else i + 1)
            if end < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Rule:
    """One pattern of an ignore file, relative to that file's folder (`base`, "" at the root)."""

    base: str
    regex: re.Pattern[str]
    negated: bool
    folders_only: bool

    def matches(self, relative: str, is_dir: bool) -> bool:
        """`relative`: the path from the workspace root, posix, no leading slash."""
        if self.folders_only and not is_dir:
            return False
        if self.base:
            if not relative.startswith(self.base + "/"):
                return False
            relative = relative[len(self.base) + 1 :]
        return self.regex.match(relative) is not None


def parse_rules(text: str, base: str = "") -> list[Rule]:
    """The rules of one ignore file whose folder is `base` (relative to the root, posix)."""
    rules = []
    for raw in text.splitlines():
        line = raw.rstrip("\n\r")
        if not line or line.startswith("#"):
            continue
        # Trailing spaces are dropped unless escaped.
        stripped = line.rstrip(" ")
        if stripped.endswith("\\") and len(stripped) < len(line):
            stripped += " "
        line = stripped
        negated = line.startswith("!")
        if negated or line.startswith(("\\!", "\\#")):
            line = line[1:]
        folders_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        anchored = "/" in line
        line = line.lstrip("/")
        body = _translate(line)
        # Unanchored: the name of any component. Either way, the match may be a folder above.
        regex = body if anchored else "(?:.*/)?" + body
        rules.append(Rule(base, re.compile(regex + r"\Z", re.DOTALL), negated, folders_only))
    return rules


class IgnoreRules:
    """The ignore files of one workspace, read as the scan reaches their folders."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._rules: dict[str, list[Rule]] = {}  # folder (relative) -> its files' rules
        self._ours: dict[str, list[Rule]] = {}  # .nanopilotignore rules, read after all others
        self._order: list[tuple[str, list[Rule]]] = []
        self._lock = threading.Lock()  # the scan thread and a request may load at once
        self.load_folder("")

    def load_folder(self, relative: str) -> None:
        """Read the ignore files of one folder (relative to the root; "" for the root itself)."""
        folder = self.root / relative if relative else self.root
        for name, store in ((".gitignore", self._rules), (".nanopilotignore", self._ours)):
            path = folder / name
            try:  # a linked ignore file could point anywhere: not read
                is_file = not path.is_symlink() and path.is_file()
                text = path.read_text(encoding="utf-8", errors="replace") if is_file else None
            except OSError:
                text = None
            with self._lock:
                if text is not None:
                    store[relative] = parse_rules(text, relative)
                elif store.pop(relative, None) is None:
                    continue  # none before, none now
                # Shallower files first, so a deeper file's rules come later and win; ours last.
                self._order = [
                    (base, rules[base])
                    for rules in (self._rules, self._ours)
                    for base in sorted(rules, key=lambda b: (b.count("/") + bool(b), b))
                ]

    def _decide(self, relative: str, is_dir: bool) -> bool | None:
        """The last matching rule's verdict on this one path (True: ignored), None if none."""
        verdict = None
        for base, rules in self._order:
            if base and not relative.startswith(base + "/"):
                continue
            for rule in rules:
                if rule.matches(relative, is_dir):
                    verdict = not rule.negated
        return verdict

    def is_ignored(self, relative: str, is_dir: bool = False) -> bool:
        """True if this path (relative to the root, posix) or a folder above it is ignored."""
        parts = relative.split("/")
        for depth in range(1, len(parts)):
            if self._decide("/".join(parts[:depth]), is_dir=True):
                return True
        return bool(self._decide(relative, is_dir))
