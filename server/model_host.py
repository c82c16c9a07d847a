"""The engine the server answers with, loaded in the background.

Loading takes seconds; the server must answer meanwhile (empty lists). A newer load replaces an
older one that is still running; a failed load keeps the engine that was serving, if any.
A remote engine (`nanopilot.engine.kind` other than local) needs no loading: it is made at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path

from server.contract import Engine
from server.errors import UserError
from server.local.engine import CompletionEngine
from server.remote.kinds import remote_engine
from server.remote.settings import EngineSettings

logger = logging.getLogger(__name__)

# Told when the engine stops answering (with the reason) and when it answers again (None).
HealthListener = Callable[[Engine, str | None], None]


class ModelHost:
    def __init__(self, on_health: HealthListener | None = None) -> None:
        self.engine: Engine | None = None
        self.loading: Path | None = None  # the directory being loaded
        self.error: str | None = None
        self._on_health = on_health
        self._generation = 0

    async def load(
        self,
        model_dir: Path,
        device: str,
        remote: EngineSettings | None = None,
        decoder: str = "auto",
    ) -> Engine | None:
        """Load in a worker thread (or connect to `remote`); None when a newer load replaced
        this one meanwhile. Raises UserError (kept in `error`) when it cannot."""
        self._generation += 1
        generation = self._generation
        self.loading = model_dir
        try:
            engine = await self._make(model_dir, device, remote, decoder)
        except UserError as err:
            if generation == self._generation:
                self.error, self.loading = str(err), None
            raise
        if generation != self._generation:
            await engine.aclose()
            return None
        previous = self.engine
        self.engine, self.error, self.loading = engine, None, None
        if previous is not None:
            await previous.aclose()
        logger.info("%s: %s", engine.describe().ready, model_dir)
        return engine

    async def _make(
        self, model_dir: Path, device: str, remote: EngineSettings | None, decoder: str
    ) -> Engine:
        if remote is None or remote.kind == "local":
            return await asyncio.to_thread(CompletionEngine.load, model_dir, device, decoder)
        engine = remote_engine(remote)
        if self._on_health is not None:
            engine.health.on_change = partial(self._on_health, engine)
        return engine
