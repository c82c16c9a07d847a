"""The Alice text: Gutenberg stripping, the honest split, batches, and the offline download path."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from server.errors import UserError
from training.char_model.data import (
    CACHE_NAME,
    download_alice,
    read_text,
    split_train_val,
    strip_gutenberg,
)
from training.char_model.trainer import get_batch

UNREACHABLE_URL = "http://127.0.0.1:9/pg11.txt"  # the discard port: refused at once


def test_gutenberg_header_and_licence_are_stripped(alice_text_path: Path) -> None:
    text = read_text(alice_text_path)
    assert text.startswith("ALICE'S ADVENTURES IN WONDERLAND\n")
    assert text.rstrip().endswith("THE END")
    assert "Gutenberg" not in text
    assert "\r" not in text and "\ufeff" not in text


def test_text_without_markers_is_kept_whole() -> None:
    assert strip_gutenberg("  Once upon a time\r\nthe end  ") == "Once upon a time\nthe end\n"


def test_split_is_contiguous_without_overlap() -> None:
    data = torch.arange(1000)
    train, val = split_train_val(data)
    assert len(train) == 900 and len(val) == 100
    assert torch.equal(torch.cat((train, val)), data)
    assert train.max() < val.min()


def test_batches_stay_inside_their_split() -> None:
    train, val = split_train_val(torch.arange(1000))
    generator = torch.Generator().manual_seed(0)
    for part in (train, val):
        x, y = get_batch(part, block_size=16, batch_size=64, generator=generator)
        assert x.shape == y.shape == (64, 16)
        assert torch.equal(y[:, :-1], x[:, 1:])  # targets are the inputs shifted by one
        assert part.min() <= x.min() and y.max() <= part.max()


def test_cached_download_is_reused_without_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cached = tmp_path / "nanopilot" / CACHE_NAME
    cached.parent.mkdir()
    cached.write_text("cached alice")
    assert download_alice(url=UNREACHABLE_URL, timeout=1) == cached


def test_offline_download_says_to_pass_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(UserError, match="pass --text"):
        download_alice(url=UNREACHABLE_URL, timeout=1)
    assert not (tmp_path / "nanopilot" / CACHE_NAME).exists()
