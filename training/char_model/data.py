"""The Alice text: find or download it, strip Project Gutenberg's wrapper, split it honestly.

Without `--text`, Project Gutenberg eBook #11 is downloaded once into the user cache
(`$XDG_CACHE_HOME/nanopilot`, else `~/.cache/nanopilot`) and reused from there.
"""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from pathlib import Path

import torch

from server.errors import UserError
from training.atomic import atomic_path

GUTENBERG_URL = "https://www.gutenberg.org/cache/epub/11/pg11.txt"
CACHE_NAME = "alice-pg11.txt"
_START = re.compile(r"^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG EBOOK.*$", re.MULTILINE)
_END = re.compile(r"^\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG EBOOK.*$", re.MULTILINE)
_END_LINE = re.compile(r"^End of (the )?Project Gutenberg.*\Z", re.MULTILINE | re.IGNORECASE)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nanopilot"


def download_alice(url: str = GUTENBERG_URL, timeout: float = 30.0) -> Path:
    """Return the cached copy of eBook #11, downloading it the first time."""
    target = cache_dir() / CACHE_NAME
    if target.is_file() and target.stat().st_size > 0:
        return target
    print(f"downloading Alice's Adventures in Wonderland from {url} into {target}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = response.read()
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise UserError(
            f"could not download {url} ({reason}); pass --text PATH to a local copy of the text"
        ) from None
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target


def strip_gutenberg(text: str) -> str:
    """The book without Project Gutenberg's header and licence, with '\\n' line endings.

    Text without the `*** START` / `*** END` markers is returned whole (only trimmed).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    start, end = _START.search(text), _END.search(text)
    if start and end and start.end() < end.start():
        text = _END_LINE.sub("", text[start.end() : end.start()].strip())
    return text.strip() + "\n"


def read_text(path: Path) -> str:
    """Read a UTF-8 text file (a byte-order mark is dropped) and strip the Gutenberg wrapper."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"text file {path} does not exist; pass --text PATH to a file") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a directory; pass --text PATH to a text file") from None
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text; pass a UTF-8 text file with --text") from None
    except OSError as err:
        raise UserError(f"cannot read {path}: {err.strerror}") from None
    text = strip_gutenberg(raw)
    if not text.strip():
        raise UserError(f"text file {path} is empty; pass a text with some characters in it")
    return text


def split_train_val(
    data: torch.Tensor, val_fraction: float = 0.1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Contiguous split: the first (1 - val_fraction) of the text trains, the rest validates.

    Windows are later sampled inside each part, so no validation character is ever trained on
    (a random split of overlapping windows would leak validation text into training).
    """
    n_train = int(len(data) * (1.0 - val_fraction))
    return data[:n_train], data[n_train:]
