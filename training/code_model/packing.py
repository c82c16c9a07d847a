"""Tokenise documents, join them with EOS and cut the stream into equal blocks (as run_clm.py).

Packing wastes no compute on padding: every position of every block is a real next-token target.
A document may span two blocks; the EOS between documents tells the model where one ends.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from training.code_model.fim import fim_transform
from training.code_model.repo_context import RepoContext

# Characters per token of a code BPE, roughly: sizes FIM windows to about one block.
CHARS_PER_TOKEN = 3


def line_windows(text: str, max_chars: int) -> list[str]:
    """`text` cut at line ends into pieces of at most ~`max_chars` (a longer line stays whole)."""
    if len(text) <= max_chars:
        return [text]
    pieces, current = [], ""
    for line in text.splitlines(keepends=True):
        if current and len(current) + len(line) > max_chars:
            pieces.append(current)
            current = ""
        current += line
    return [*pieces, current] if current else pieces


def windows_with_offsets(text: str, max_chars: int) -> list[tuple[int, str]]:
    """`line_windows` with the offset in `text` where each piece starts."""
    offsets, start = [], 0
    for piece in line_windows(text, max_chars):
        offsets.append((start, piece))
        start += len(piece)
    return offsets


def examples_of(
    text: str,
    rng: random.Random,
    window_chars: int,
    fim_rate: float,
    fim_mode: str,
    context: RepoContext | None,
) -> list[str]:
    """One document's training texts: windows (when cut), FIM-reordered now and then, with
    repository context before each when `context` is given."""
    if fim_rate <= 0 and context is None:
        return [text]
    examples = []
    for start, piece in windows_with_offsets(text, window_chars):
        example = fim_transform(piece, rng, fim_rate, fim_mode)
        if context is not None:
            example = context.example(text, start, start + len(piece), example, rng)
        examples.append(example)
    return examples


class BlockDataset(Dataset):
    """Fixed-length token blocks; each item is a causal-LM example (labels = inputs)."""

    def __init__(self, blocks: torch.Tensor) -> None:
        self.blocks = blocks

    def __len__(self) -> int:
        return self.blocks.shape[0]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        block = self.blocks[index]
        return {"input_ids": block, "labels": block}


def pack_documents(
    documents: Sequence[str],
    tokenizer,
    block_size: int,
    *,
    fim_rate: float = 0.0,
    seed: int = 0,
    passes: int = 1,
    fim_mode: str = "line",
    context: RepoContext | None = None,
) -> BlockDataset:
    """`passes` shuffled copies of `documents`, each with fresh FIM cuts, packed into blocks.

    More than one pass gives a multi-epoch run new FIM examples every epoch instead of the same
    cuts again. With FIM or context, a long document (a whole file) is first cut into windows of
    about one block (less the context's share), so a FIM example's prefix, suffix and middle, and
    the context before them, land in the same block, as in a prompt. A trailing partial block is
    dropped.
    """
    rng = random.Random(seed)
    window_chars = block_size * CHARS_PER_TOKEN - (context.max_chars if context else 0)
    stream: list[int] = []
    for _ in tqdm(range(passes), desc="packing", unit="pass", leave=False, disable=None):
        order = list(documents)
        rng.shuffle(order)
        texts = [
            example
            for text in order
            for example in examples_of(text, rng, window_chars, fim_rate, fim_mode, context)
        ]
        for ids in tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []:
            stream.extend(ids)
            stream.append(tokenizer.eos_token_id)
    usable = len(stream) // block_size * block_size
    blocks = torch.tensor(stream[:usable], dtype=torch.long).view(-1, block_size)
    return BlockDataset(blocks)
