"""Is the remote engine answering? One message per outage, not one per keystroke.

Every fault is logged; only the change from answering to failing (and back) is reported to
`on_change`, which the language server turns into a window/showMessage.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)


class EngineHealth:
    def __init__(self, name: str) -> None:
        self.name = name  # e.g. "llamacpp at http://127.0.0.1:8080"
        self.error: str | None = None  # the last fault while unreachable; None when answering
        self.faults = 0
        self.on_change: Callable[[str | None], None] | None = None

    @property
    def unreachable(self) -> bool:
        return self.error is not None

    def failed(self, reason: str) -> None:
        self.faults += 1
        logger.warning("engine %s: %s", self.name, reason)
        was_up = self.error is None
        self.error = reason
        if was_up and self.on_change:
            self.on_change(reason)

    def answered(self) -> None:
        if self.error is None:
            return
        self.error = None
        logger.info("engine %s answers again", self.name)
        if self.on_change:
            self.on_change(None)
