"""The project index (issue 19): copy candidates from the code already in the editor.

Torch-free and self-contained. `ProjectIndex` holds the open documents and a workspace's files,
lexer-tokenised (lexer.py), scanned safely in the background (workspace.py) within the ignore
rules and the deny list (ignore.py), and answers `lookup` with `Candidate`s: what followed the
longest match of the tokens before the cursor.
"""

from __future__ import annotations

from server.project.ignore import is_denied
from server.project.index import SETTINGS, IndexLimits, ProjectIndex
from server.project.languages import extensions_for, language_of
from server.project.matching import SCOPES, Candidate
from server.project.workspace import ScanLimits

__all__ = [
    "SCOPES",
    "SETTINGS",
    "Candidate",
    "IndexLimits",
    "ProjectIndex",
    "ScanLimits",
    "extensions_for",
    "is_denied",
    "language_of",
]
