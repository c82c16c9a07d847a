"""Which files belong to which language: LSP language ids, file name endings, file URIs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

# LSP language ids -> file name endings, for the workspace scan and for matching tabs' languages.
LANGUAGE_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "python": (".py", ".pyi"),
    "javascript": (".js", ".jsx", ".mjs", ".cjs"),
    "javascriptreact": (".jsx", ".js"),
    "typescript": (".ts", ".tsx", ".mts", ".cts"),
    "typescriptreact": (".tsx", ".ts"),
    "go": (".go",),
    "rust": (".rs",),
    "java": (".java",),
    "kotlin": (".kt", ".kts"),
    "c": (".c", ".h"),
    "cpp": (".cc", ".cpp", ".cxx", ".hpp", ".hh", ".h"),
    "csharp": (".cs",),
    "ruby": (".rb",),
    "php": (".php",),
    "swift": (".swift",),
    "scala": (".scala",),
    "lua": (".lua",),
    "shellscript": (".sh", ".bash"),
    "r": (".r", ".R"),
    "julia": (".jl",),
    "haskell": (".hs",),
    "elixir": (".ex", ".exs"),
    "dart": (".dart",),
}


def extensions_for(language: str) -> tuple[str, ...]:
    """The file endings of an LSP language id (empty if unknown)."""
    return LANGUAGE_EXTENSIONS.get(language, ())


def language_of(path: str) -> str | None:
    """The language id a file name ending suggests, or None."""
    lower = path.lower()
    for language, endings in LANGUAGE_EXTENSIONS.items():
        if lower.endswith(tuple(e.lower() for e in endings)):
            return language
    return None


def path_of(uri: str) -> Path | None:
    """The local path of a `file:` URI (None for `untitled:` and other schemes)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))
