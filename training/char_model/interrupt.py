"""Hold back Ctrl-C while a few steps that belong together run."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def ctrl_c_deferred() -> Iterator[None]:
    """Run the block to its end even if Ctrl-C (SIGINT) comes, then raise KeyboardInterrupt.

    The trainer records a new best validation loss and saves the checkpoint as one step; a Ctrl-C
    between the two would leave metrics that name a checkpoint which was never written.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt
