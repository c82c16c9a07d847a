"""When to stop generating: the same line and block rules post-processing applies afterwards.

Stopping as soon as the suggestion's end is known saves the tokens post-processing would cut.
"""

from __future__ import annotations

from collections.abc import Callable

from server.postprocess.context import EditContext
from server.postprocess.scope import block_end
from server.postprocess.single_line import keep_first_line


def stop_rule(ctx: EditContext) -> Callable[[str], bool]:
    """A test on the text generated so far: True once the suggestion is complete."""
    if ctx.multiline:
        return lambda text: block_end(text, ctx) is not None
    return lambda text: keep_first_line(text, ctx) != text
