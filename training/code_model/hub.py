"""Is the Hugging Face hub reachable? Asked before a download, so offline fails at once.

Without this check `from_pretrained` / `load_dataset` retry for about a minute and print a
screenful of warnings before giving up.
"""

from __future__ import annotations

import socket
from urllib.parse import urlparse


def hub_reachable(timeout_s: float = 3.0) -> bool:
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    url = urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout_s):
            return True
    except OSError:
        return False
