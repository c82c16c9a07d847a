"""A corpus of Python functions for training a code model, split into train/validation/test.

Functions (with decorators, signature and docstring) are cut out of source files with `ast`;
a method keeps the header line of its class, so `self` and the class name make sense. Files that
do not parse are skipped, exact and whitespace-normalised duplicates are dropped, lengths are
bounded, and the split is made **by file**: every function of a file lands in the same split, so
nothing the test split holds was seen in training, not even a sibling from the same module.

Sources (`--data`): nothing (the running Python's standard library, without its test suites), a
directory of `.py` files, a `.jsonl`/`.json`/`.parquet`/`.txt` file whose records hold source code
in a `content` or `text` field, or a Hugging Face hub data set name.

    python -m training.corpus                 # summary of the standard-library corpus
    python -m training.corpus --data src/ --write runs/corpus
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import sysconfig
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from training.atomic import atomic_path
from training.errors import UserError, run_cli
from training.hub import hub_reachable

SPLITS = ("train", "validation", "test")
TEXT_FIELDS = ("content", "text")
RECORD_SUFFIXES = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".txt": "text"}
# Directories of the standard library that are test suites, data or third-party code.
STDLIB_SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "__pycache__", "lib-dynload"}
STDLIB_DATA = "stdlib"


@dataclass(frozen=True)
class CorpusOptions:
    """How functions are filtered and split; the same options always give the same corpus."""

    min_lines: int = 3
    max_chars: int = 6000
    validation_percent: float = 5.0
    test_percent: float = 5.0
    max_files: int | None = None


@dataclass(frozen=True)
class SourceFile:
    name: str  # a stable name (relative path or record id) that decides the split
    text: str


@dataclass
class CorpusSummary:
    source: str
    files: int = 0
    unparsable_files: int = 0
    functions: int = 0
    exact_duplicates: int = 0
    normalised_duplicates: int = 0
    too_short: int = 0
    too_long: int = 0
    files_per_split: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    functions_per_split: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    chars_per_split: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))

    def as_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        kept = sum(self.functions_per_split.values())
        split_text = ", ".join(
            f"{name} {self.functions_per_split[name]} functions / {self.files_per_split[name]} "
            f"files / {self.chars_per_split[name] / 1e6:.2f}M chars"
            for name in SPLITS
        )
        return [
            f"corpus from {self.source}: {self.files} files ({self.unparsable_files} unparsable, "
            f"skipped), {self.functions} functions found, {kept} kept",
            f"dropped: {self.exact_duplicates} exact duplicates, {self.normalised_duplicates} "
            f"whitespace-normalised duplicates, {self.too_short} too short, "
            f"{self.too_long} too long",
            f"split by file: {split_text}",
        ]


@dataclass
class Corpus:
    splits: dict[str, list[str]]  # split name -> function source texts
    summary: CorpusSummary


def stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def iter_python_files(root: Path, skip_dirs: frozenset[str] = frozenset()) -> Iterator[Path]:
    """Every `.py` file under `root` in sorted order, leaving out directories named in skip_dirs."""
    for path in sorted(root.rglob("*.py")):
        relative_dirs = path.relative_to(root).parts[:-1]
        if not any(part in skip_dirs for part in relative_dirs):
            yield path


def read_directory(root: Path, skip_dirs: frozenset[str] = frozenset()) -> list[SourceFile]:
    files = []
    for path in iter_python_files(root, skip_dirs):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # not UTF-8 text (a few test fixtures are deliberately broken)
        files.append(SourceFile(str(path.relative_to(root)), text))
    return files


def read_records(data: str, max_files: int | None) -> list[SourceFile]:
    """Records from a local data file or a hub data set; each record's code is one source file."""
    from datasets import load_dataset

    suffix = Path(data).suffix.lower()
    if Path(data).is_file():
        if suffix not in RECORD_SUFFIXES:
            raise UserError(
                f"--data {data}: unsupported file type {suffix!r}; use a directory of .py files "
                f"or a {', '.join(RECORD_SUFFIXES)} file"
            )
        builder = RECORD_SUFFIXES[suffix]
        extra = {"sample_by": "document"} if builder == "text" else {}
        try:
            dataset = load_dataset(builder, data_files=data, split="train", **extra)
        except Exception as err:
            raise UserError(f"--data {data}: could not read it ({first_error_line(err)})") from err
    else:
        if not hub_reachable():
            raise UserError(
                f"--data {data}: no such file or directory, and the hub is unreachable for a "
                "data set of that name; pass a directory of .py files or a data file"
            )
        try:
            dataset = load_dataset(data, split="train")
        except Exception as err:
            raise UserError(
                f"--data {data}: not a local path, and the hub data set could not be loaded "
                f"({first_error_line(err)}); offline, pass a directory of .py files or a data file"
            ) from err
    text_field = next((name for name in TEXT_FIELDS if name in dataset.column_names), None)
    if text_field is None:
        raise UserError(
            f"--data {data}: records have no 'content' or 'text' field "
            f"(fields: {', '.join(dataset.column_names)})"
        )
    if max_files is not None:
        dataset = dataset.select(range(min(max_files, len(dataset))))
    names = dataset["path"] if "path" in dataset.column_names else range(len(dataset))
    return [
        SourceFile(f"{name}#{index}", text or "")
        for index, (name, text) in enumerate(zip(names, dataset[text_field], strict=True))
    ]


def first_error_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def load_sources(data: str | None, max_files: int | None = None) -> tuple[str, list[SourceFile]]:
    """The source files named by `--data` (None: the standard library), with a display name."""
    if data is None or data == STDLIB_DATA:
        root = stdlib_dir()
        files = read_directory(root, frozenset(STDLIB_SKIP_DIRS))
        source = f"the Python standard library ({root})"
    elif Path(data).is_dir():
        files = read_directory(Path(data))
        source = data
    else:
        files = read_records(data, max_files)
        source = data
    return source, files[:max_files] if max_files is not None else files


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


def split_of(name: str, options: CorpusOptions) -> str:
    """A file's split, from a hash of its name: stable across runs, machines and Python versions."""
    bucket = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 10_000 / 100
    if bucket < options.test_percent:
        return "test"
    if bucket < options.test_percent + options.validation_percent:
        return "validation"
    return "train"


def build_corpus(
    files: Iterable[SourceFile], source: str, options: CorpusOptions = CorpusOptions()
) -> Corpus:
    """Extract, filter, de-duplicate and split the functions of `files` (in the order given)."""
    summary = CorpusSummary(source=source)
    splits: dict[str, list[str]] = {name: [] for name in SPLITS}
    seen_exact: set[str] = set()
    seen_normalised: set[str] = set()
    for file in tqdm(files, desc="extracting functions", unit="file", leave=False):
        summary.files += 1
        functions = extract_functions(file.text)
        if functions is None:
            summary.unparsable_files += 1
            continue
        split = split_of(file.name, options)
        kept_any = False
        for function in functions:
            summary.functions += 1
            normalised = " ".join(function.split())
            if function in seen_exact:
                summary.exact_duplicates += 1
                continue
            if normalised in seen_normalised:
                summary.normalised_duplicates += 1
                continue
            seen_exact.add(function)
            seen_normalised.add(normalised)
            if function.count("\n") < options.min_lines:
                summary.too_short += 1
                continue
            if len(function) > options.max_chars:
                summary.too_long += 1
                continue
            splits[split].append(function)
            summary.functions_per_split[split] += 1
            summary.chars_per_split[split] += len(function)
            kept_any = True
        summary.files_per_split[split] += kept_any
    if not splits["train"]:
        raise UserError(
            f"no usable Python functions in {source} ({summary.files} files, "
            f"{summary.unparsable_files} unparsable); point --data at Python source code"
        )
    return Corpus(splits, summary)


def load_corpus(data: str | None, options: CorpusOptions = CorpusOptions()) -> Corpus:
    source, files = load_sources(data, options.max_files)
    if not files:
        raise UserError(f"--data {data}: no source files found; point it at Python code")
    return build_corpus(files, source, options)


def write_splits(corpus: Corpus, out_dir: Path) -> None:
    """Each split as JSON lines with a `content` field, readable again with `--data`."""
    import json

    for name, functions in corpus.splits.items():
        with atomic_path(out_dir / f"{name}.jsonl") as tmp:
            tmp.write_text("".join(json.dumps({"content": f}) + "\n" for f in functions))


def add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        default=None,
        help="directory of .py files, .jsonl/.json/.parquet/.txt file (field content or text), "
        "or hub data set name (default: the running Python's standard library)",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_corpus_arguments(parser)
    parser.add_argument("--write", type=Path, help="write train/validation/test .jsonl here")
    args = parser.parse_args(argv)
    corpus = load_corpus(args.data)
    print("\n".join(corpus.summary.lines()))
    if args.write:
        write_splits(corpus, args.write)
        print(f"wrote {', '.join(f'{s}.jsonl' for s in SPLITS)} to {args.write}")


if __name__ == "__main__":
    run_cli(main)
