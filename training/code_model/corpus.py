"""A corpus of Python code for training a code model, split into train/validation/test.

The unit of training is a whole **file** (the default: what the editor holds when it asks for a
completion) or a **function** (with decorators, signature and docstring, cut out with `ast`; a
method keeps the header line of its class, so `self` and the class name make sense). Files that do
not parse are skipped; exact, whitespace-normalised and near duplicates (MinHash over lines) are
dropped; lengths are bounded. The split is made **by group** (a package or top-level directory, see
`training.code_model.sources`): nothing the test split holds was seen in training, not even a
sibling module of the same project. A split that would come out empty takes the group (or, with too
few groups, the file) nearest to its share, so validation always has tokens.

    python -m training.corpus                 # summary of the default corpus
    python -m training.corpus --data src/ --write runs/corpus
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import textwrap
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import numpy as np
from tqdm import tqdm

from server.errors import UserError
from training.atomic import atomic_path
from training.code_model.sources import (
    INSTALLED_DATA,
    PackageInfo,
    SourceFile,
    first_error_line,
    load_sources,
    stdlib_dir,
)

__all__ = [
    "SPLITS", "UNITS", "Corpus", "CorpusOptions", "SourceFile", "build_corpus",
    "extract_functions", "first_error_line", "load_corpus", "split_of", "stdlib_dir",
]  # fmt: skip

SPLITS = ("train", "validation", "test")
UNITS = ("file", "function")
# MinHash over a document's distinct lines: 4 bands of 4 hashes flag pairs whose line sets
# overlap by roughly 80 % or more (a copied module with a few edits).
MINHASH_BANDS, MINHASH_ROWS = 4, 4
_PRIME = (1 << 61) - 1
_RNG = np.random.default_rng(0)
_MINHASH_A = _RNG.integers(1, _PRIME, MINHASH_BANDS * MINHASH_ROWS, dtype=np.uint64)
_MINHASH_B = _RNG.integers(0, _PRIME, MINHASH_BANDS * MINHASH_ROWS, dtype=np.uint64)


@dataclass(frozen=True)
class CorpusOptions:
    """How documents are cut, filtered and split; the same options always give the same corpus."""

    unit: str = "file"
    min_lines: int = 3
    max_chars: int = 6000  # per function
    max_file_chars: int = 150_000  # per file (larger ones are data tables, not code to learn)
    validation_percent: float = 3.0  # of groups, by the hash of their names
    test_percent: float = 13.0
    max_files: int | None = None

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise UserError(f"unit {self.unit!r} is unknown; choose one of {', '.join(UNITS)}")


@dataclass
class CorpusSummary:
    source: str
    unit: str = "file"
    files: int = 0
    unparsable_files: int = 0
    documents: int = 0
    exact_duplicates: int = 0
    normalised_duplicates: int = 0
    near_duplicates: int = 0
    too_short: int = 0
    too_long: int = 0
    groups_per_split: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    files_per_split: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    documents_per_split: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    chars_per_split: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    packages: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        kept = sum(self.documents_per_split.values())
        split_text = ", ".join(
            f"{name} {self.documents_per_split[name]} {self.unit}s / "
            f"{self.groups_per_split[name]} groups / {self.chars_per_split[name] / 1e6:.2f}M chars"
            for name in SPLITS
        )
        excluded = [p["name"] for p in self.packages if p["excluded"]]
        return [
            f"corpus from {self.source}: {self.files} files ({self.unparsable_files} unparsable, "
            f"skipped), {self.documents} {self.unit}s found, {kept} kept",
            f"dropped: {self.exact_duplicates} exact, {self.normalised_duplicates} "
            f"whitespace-normalised and {self.near_duplicates} near duplicates, "
            f"{self.too_short} too short, {self.too_long} too long",
            f"split by group: {split_text}",
            *([f"left out for their licence: {', '.join(excluded)}"] if excluded else []),
        ]


@dataclass
class Corpus:
    splits: dict[str, list[str]]  # split name -> document texts (files or functions)
    files: dict[str, list[SourceFile]]  # split name -> the whole files they came from
    summary: CorpusSummary


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def extract_functions(text: str) -> list[str] | None:
    """The top-level functions and methods of a module's source, or None if it does not parse.

    Nested functions stay inside their parent. A method is prefixed with the header line(s) of
    its enclosing class(es); everything is dedented so it reads as module-level code.
    """
    text = normalise_newlines(text)
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    lines = text.split("\n")
    functions: list[str] = []

    def visit(node: ast.AST, class_headers: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                body = "\n".join(lines[first - 1 : child.end_lineno])
                functions.append(textwrap.dedent("".join(class_headers) + body + "\n"))
            elif isinstance(child, ast.ClassDef):
                header = "\n".join(lines[child.lineno - 1 : child.body[0].lineno - 1]) + "\n"
                visit(child, [*class_headers, header])
            else:
                visit(child, class_headers)

    visit(tree, [])
    return functions


def extract_documents(text: str, unit: str) -> list[str] | None:
    """The training documents of one file (None if it does not parse)."""
    if unit == "function":
        return extract_functions(text)
    text = normalise_newlines(text)
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    return [text]


def bucket_of(name: str) -> float:
    """A stable number in [0, 100) from a name: the same across runs, machines and Pythons."""
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 10_000 / 100


def split_of(name: str, options: CorpusOptions) -> str:
    """A group's split, from a hash of its name: stable across runs, machines and Pythons, and
    independent of which other groups exist (installing a package moves no other one)."""
    bucket = bucket_of(name)
    if bucket < options.test_percent:
        return "test"
    if bucket < options.test_percent + options.validation_percent:
        return "validation"
    return "train"


def assign_splits(keys: list[str], options: CorpusOptions) -> dict[str, str]:
    """Split of each key (group); a split with a share > 0 never comes out empty.

    An empty held-out split takes the training key whose hash bucket is lowest, as long as
    training keeps at least one key.
    """
    assigned = {key: split_of(key, options) for key in keys}
    wanted = {"test": options.test_percent, "validation": options.validation_percent}
    for split, share in wanted.items():
        if share <= 0 or split in assigned.values():
            continue
        train_keys = sorted((k for k, s in assigned.items() if s == "train"), key=bucket_of)
        if len(train_keys) > 1:
            assigned[train_keys[0]] = split
    return assigned


class NearDuplicates:
    """MinHash + banding over each document's distinct stripped lines."""

    def __init__(self) -> None:
        self._bands: set[tuple[int, bytes]] = set()

    def seen(self, text: str) -> bool:
        """True when a document with nearly the same lines was added before (else add this)."""
        lines = {line.strip() for line in text.split("\n") if len(line.strip()) > 3}
        if len(lines) < 5:
            return False  # too short for a reliable estimate: exact dedup handles these
        hashes = np.fromiter((zlib.crc32(line.encode()) for line in lines), dtype=np.uint64)
        signature = ((np.outer(hashes, _MINHASH_A) + _MINHASH_B) % _PRIME).min(axis=0)
        keys = [
            (band, signature[band * MINHASH_ROWS : (band + 1) * MINHASH_ROWS].tobytes())
            for band in range(MINHASH_BANDS)
        ]
        if any(key in self._bands for key in keys):
            return True
        self._bands.update(keys)
        return False


def build_corpus(
    files: Iterable[SourceFile],
    source: str,
    options: CorpusOptions = CorpusOptions(),
    packages: list[PackageInfo] | None = None,
) -> Corpus:
    """Cut, filter, de-duplicate and split the documents of `files` (in the order given)."""
    files = list(files)
    summary = CorpusSummary(source=source, unit=options.unit)
    summary.packages = [asdict(p) for p in packages or []]
    if len({file.group or file.name for file in files}) < 3:  # too few groups: split by file
        files = [SourceFile(f.name, f.text, "") for f in files]
    split_by_key = assign_splits(sorted({file.group or file.name for file in files}), options)
    splits: dict[str, list[str]] = {name: [] for name in SPLITS}
    kept_files: dict[str, list[SourceFile]] = {name: [] for name in SPLITS}
    kept_groups: dict[str, set[str]] = {name: set() for name in SPLITS}
    seen_exact: set[str] = set()
    seen_normalised: set[str] = set()
    near = NearDuplicates()
    for file in tqdm(
        files, desc=f"cutting {options.unit}s", unit="file", leave=False, disable=None
    ):
        summary.files += 1
        if options.unit == "file" and len(file.text) > options.max_file_chars:
            summary.too_long += 1
            continue
        documents = extract_documents(file.text, options.unit)
        if documents is None:
            summary.unparsable_files += 1
            continue
        key = file.group or file.name
        split = split_by_key[key]
        kept_any = False
        for document in documents:
            summary.documents += 1
            normalised = " ".join(document.split())
            if document in seen_exact:
                summary.exact_duplicates += 1
                continue
            if normalised in seen_normalised:
                summary.normalised_duplicates += 1
                continue
            seen_exact.add(document)
            seen_normalised.add(normalised)
            if document.count("\n") < options.min_lines:
                summary.too_short += 1
                continue
            if options.unit == "function" and len(document) > options.max_chars:
                summary.too_long += 1
                continue
            if near.seen(document):
                summary.near_duplicates += 1
                continue
            splits[split].append(document)
            summary.documents_per_split[split] += 1
            summary.chars_per_split[split] += len(document)
            kept_any = True
        if kept_any:
            summary.files_per_split[split] += 1
            kept_files[split].append(SourceFile(file.name, normalise_newlines(file.text), key))
            kept_groups[split].add(key)
    summary.groups_per_split = {name: len(kept_groups[name]) for name in SPLITS}
    if not splits["train"]:
        raise UserError(
            f"no usable Python {options.unit}s in {source} ({summary.files} files, "
            f"{summary.unparsable_files} unparsable); point --data at Python source code"
        )
    return Corpus(splits, kept_files, summary)


def load_corpus(data: str | None, options: CorpusOptions = CorpusOptions()) -> Corpus:
    sources = load_sources(data, options.max_files)
    if not sources.files:
        raise UserError(f"--data {data}: no source files found; point it at Python code")
    return build_corpus(sources.files, sources.description, options, sources.packages)


def write_splits(corpus: Corpus, out_dir) -> None:
    """Each split as JSON lines with a `content` field, readable again with `--data`."""
    import json

    for name, documents in corpus.splits.items():
        with atomic_path(out_dir / f"{name}.jsonl") as tmp:
            tmp.write_text("".join(json.dumps({"content": d}) + "\n" for d in documents))


def add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        default=None,
        help="directory of .py files, .jsonl/.json/.parquet/.txt file (field content or text), "
        f"hub data set name, 'stdlib', or '{INSTALLED_DATA}' (the default: the running Python's "
        "standard library and installed packages)",
    )
    parser.add_argument("--unit", default="file", choices=UNITS, help="training document")


def main(argv: list[str] | None = None) -> None:
    from pathlib import Path

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_corpus_arguments(parser)
    parser.add_argument("--write", type=Path, help="write train/validation/test .jsonl here")
    args = parser.parse_args(argv)
    corpus = load_corpus(args.data, CorpusOptions(unit=args.unit))
    print("\n".join(corpus.summary.lines()))
    for package in corpus.summary.packages:
        print(
            f"  {package['name']} {package['version']} ({package['licence']}): "
            f"{package['files']} files, {package['chars'] / 1e6:.2f}M chars "
            f"{'— left out: ' + package['excluded'] if package['excluded'] else ''}"
        )
    if args.write:
        write_splits(corpus, args.write)
        print(f"wrote {', '.join(f'{s}.jsonl' for s in SPLITS)} to {args.write}")
