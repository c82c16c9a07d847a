"""Repository context written for a remote model, in its own convention (issue 20).

A model family whose FIM template names a file separator (StarCoder2's `<file_sep>`,
Qwen2.5-Coder's `<|file_sep|>`) was trained on whole repositories written as files after such
tokens: the snippets go first, each after the separator and its path, then the separator and the
current file's path, then the FIM prompt. Any other model gets the snippets as comments in the
language of the current file, each block under a `Path:` line (as Tabby writes them), at the start
of the prefix: code a model reads as part of the file without being asked to continue it.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.project import language_of
from server.snippets import Snippet

# Line comments of the languages the project index knows; "#" for the rest.
LINE_COMMENTS: dict[str, str] = {
    **dict.fromkeys(
        ("javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust", "java"),
        "//",
    ),
    **dict.fromkeys(("kotlin", "c", "cpp", "csharp", "php", "swift", "scala", "dart"), "//"),
    **dict.fromkeys(("lua", "haskell"), "--"),
}


@dataclass(frozen=True)
class RepoContext:
    """The snippets (least similar first) and the current document's path."""

    snippets: tuple[Snippet, ...] = ()
    path: str = "untitled"

    def text(self, file_sep: str | None) -> str:
        """The context: file blocks after `file_sep`, or comment blocks without one; "" when
        there are no snippets."""
        if not self.snippets:
            return ""
        if file_sep:
            files = [f"{file_sep}{s.path}\n{s.text.rstrip(chr(10))}\n" for s in self.snippets]
            return "".join(files) + f"{file_sep}{self.path}\n"
        mark = LINE_COMMENTS.get(language_of(self.path) or "", "#")
        lines = []
        for snippet in self.snippets:
            lines.append(f"{mark} Path: {snippet.path}")
            lines += [f"{mark} {line}".rstrip() for line in snippet.text.rstrip("\n").split("\n")]
        lines.append(f"{mark} Path: {self.path}")
        return "\n".join(lines) + "\n"
