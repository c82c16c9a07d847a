"""Code from the user's other files, written into a prompt the way the local model was trained.

A context-trained model (`training.finetune --repo_context`) saw, before each window of a file,
a few retrieved snippets, each under a `# Path:` comment line, then the path of the file itself:

    # Path: pkg/other.py
    <snippet lines, verbatim>
    # Path: pkg/this.py
    <the file's own text up to the cursor>

The server writes exactly this before the prefix of a model whose config says it was trained for
it (`CONTEXT_FORMAT`), so training and serving agree byte for byte; a model without it gets no
context. The snippets stay verbatim (not commented out) so the model copies them token for token.
Torch-free: the server's prompt builder and the training data both import it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# The value a context-trained model carries in its config as `repo_context`.
CONTEXT_FORMAT = "path-comments-v1"

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")


@dataclass(frozen=True)
class Snippet:
    """A few lines of another file (or of the same file, away from the cursor)."""

    path: str
    text: str


def format_context(snippets: Sequence[Snippet], current_path: str) -> str:
    """The text placed before the file's own prefix; "" when there is nothing to show."""
    if not snippets:
        return ""
    blocks = [f"# Path: {snippet.path}\n{snippet.text.rstrip(chr(10))}\n" for snippet in snippets]
    return "".join(blocks) + f"# Path: {current_path}\n"


def words(text: str) -> frozenset[str]:
    """The identifiers and numbers of `text`: what retrieval compares."""
    return frozenset(_WORD.findall(text))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Shared words over all words (Copilot's and RepoCoder's similarity for snippets)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
