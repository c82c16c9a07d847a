"""What a post-processing rule may look at: the text around the cursor, and the line mode.

The line mode is decided here, once per request (`EditContext.for_request`, called by the
engine): the stop rule and every post-processing rule read the same decision.
"""

from __future__ import annotations

from dataclasses import dataclass


def line_prefix(prefix: str) -> str:
    """The cursor's line up to the cursor, given the text before the cursor."""
    return prefix[prefix.rfind("\n") + 1 :]


def indentation(line: str) -> int:
    """The width of a line's leading whitespace (a tab counts as one column, as Python's own)."""
    return len(line) - len(line.lstrip(" \t"))


@dataclass(frozen=True)
class EditContext:
    """The document around the cursor. `multiline` False means: a single line of suggestion."""

    prefix: str
    suffix: str
    multiline: bool = False

    @classmethod
    def for_request(cls, prefix: str, suffix: str, mode: str) -> EditContext:
        """The context of one request, its line mode (`auto`, `always`, `never`) decided."""
        return cls(prefix, suffix, wants_multiline(mode, cls(prefix, suffix)))

    @property
    def line_prefix(self) -> str:
        """The cursor's line up to the cursor."""
        return line_prefix(self.prefix)

    @property
    def rest_of_line(self) -> str:
        """The cursor's line after the cursor (what ends up after the suggestion's last line)."""
        end = self.suffix.find("\n")
        return self.suffix if end < 0 else self.suffix[:end]

    @property
    def following_lines(self) -> list[str]:
        """The lines below the cursor's line."""
        end = self.suffix.find("\n")
        return [] if end < 0 else self.suffix[end + 1 :].split("\n")

    @property
    def opens_block(self) -> bool:
        """The cursor's line ends a block opener such as `def f():` (the cursor at its end)."""
        return self.line_prefix.rstrip().endswith(":") and not self.rest_of_line.strip()

    @property
    def block_indent(self) -> int:
        """The indentation of the cursor's block: lines of the suggestion indented less leave it."""
        line = self.line_prefix
        base = len(line) if not line.strip() else indentation(line)
        return base + 1 if self.opens_block else base


def wants_multiline(mode: str, ctx: EditContext) -> bool:
    """Mid-line: one line. `auto`: a block on an empty line or after a block opener (`:`)."""
    if mode == "never" or ctx.rest_of_line.strip():
        return False
    return mode == "always" or not ctx.line_prefix.strip() or ctx.opens_block
