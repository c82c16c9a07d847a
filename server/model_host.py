"""The model the server answers with, loaded in the background.

Loading takes seconds; the server must answer meanwhile (empty lists). A newer load replaces an
older one that is still running; a failed load keeps the engine that was serving, if any.
A remote engine (`nanopilot.engine.kind` other than local) needs no loading: it is made at once.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from server.engine import CompletionEngine
from server.engines.kinds import remote_engine
from server.engines.remote import RemoteEngine
from server.engines.settings import EngineSettings
from server.errors import UserError

logger = logging.getLogger(__name__)


class ModelHost:
    def __init__(self) -> None:
        self.engine: CompletionEngine | RemoteEngine | None = None
        self.loading: Path | None = None  # the directory being loaded
        self.error: str | None = None
        self._generation = 0

    @property
    def ready(self) -> bool:
        return self.engine is not None

    async def load(
        self,
        model_dir: Path,
        device: str,
        remote: EngineSettings | None = None,
        decoder: str = "auto",
    ) -> CompletionEngine | RemoteEngine | None:
        """Load in a worker thread (or connect to `remote`); None when a newer load replaced
        this one meanwhile. Raises UserError (kept in `error`) when it cannot."""
        self._generation += 1
        generation = self._generation
        self.loading = model_dir
        try:
            if remote is not None and remote.kind != "local":
                engine = remote_engine(remote)
            else:
                engine = await asyncio.to_thread(CompletionEngine.load, model_dir, device, decoder)
        except UserError as err:
            if generation == self._generation:
                self.error, self.loading = str(err), None
            raise
        if generation != self._generation:
            await close(engine)
            return None
        previous = self.engine
        self.engine, self.error, self.loading = engine, None, None
        await close(previous)
        logger.info("model %s ready on %s", model_dir, engine.device)
        return engine


async def close(engine: CompletionEngine | RemoteEngine | None) -> None:
    """Release a replaced engine's connections (a local model is left to the garbage collector)."""
    if isinstance(engine, RemoteEngine):
        await engine.aclose()
