"""The corpus: sources, files or functions, de-duplication, length bounds, split by group."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.errors import UserError
from training.code_model.corpus import (
    CorpusOptions,
    SourceFile,
    build_corpus,
    extract_functions,
    load_corpus,
    split_of,
)
from training.code_model.sources import installed_packages, is_skipped_path, restricted

FUNCTIONS = {"unit": "function"}

MODULE = '''import functools


@functools.cache
def add(a, b):
    """Add two numbers."""
    total = a + b
    return total


class Greeter(Base):
    """Says hello."""

    def greet(self, name):
        message = f"hello {name}"
        return message

    def nested(self):
        def helper():
            return 1
        return helper()
'''


def test_extracts_functions_with_decorators_docstrings_and_class_context():
    functions = extract_functions(MODULE)
    assert functions is not None
    assert functions[0].startswith("@functools.cache\ndef add(a, b):\n")
    assert '"""Add two numbers."""' in functions[0]
    assert functions[1].startswith("class Greeter(Base):\n")
    assert "    def greet(self, name):\n" in functions[1]
    assert '"""Says hello."""' not in functions[1]  # the class header, not its whole body
    assert len(functions) == 3  # the nested helper stays inside its parent
    assert "def helper" in functions[2]


def test_unparsable_file_is_skipped_and_counted():
    files = [SourceFile("good.py", MODULE), SourceFile("bad.py", "def broken(:\n    pass\n")]
    corpus = build_corpus(files, "test", CorpusOptions(**FUNCTIONS))
    assert corpus.summary.unparsable_files == 1
    assert corpus.summary.files == 2


def test_exact_and_whitespace_normalised_duplicates_are_dropped():
    spaced = MODULE.replace("total = a + b", "total  =  a + b")
    files = [SourceFile("a.py", MODULE), SourceFile("b.py", MODULE), SourceFile("c.py", spaced)]
    options = CorpusOptions(validation_percent=0, test_percent=0, **FUNCTIONS)
    corpus = build_corpus(files, "test", options)
    assert corpus.summary.exact_duplicates == 5  # b.py: all three; c.py: two unchanged
    assert corpus.summary.normalised_duplicates == 1
    assert len(corpus.splits["train"]) == 3


def test_length_bounds():
    options = CorpusOptions(
        min_lines=5, max_chars=108, validation_percent=0, test_percent=0, **FUNCTIONS
    )
    corpus = build_corpus([SourceFile("a.py", MODULE)], "test", options)
    assert corpus.summary.too_short == 1  # greet: four lines with its class header
    assert corpus.summary.too_long == 1  # nested: 110 characters
    assert [f.split("(")[0] for f in corpus.splits["train"]] == ["@functools.cache\ndef add"]


def test_split_is_by_file_and_stable():
    options = CorpusOptions(validation_percent=20, test_percent=20, **FUNCTIONS)
    files = [
        SourceFile(f"mod{i}.py", f"def f{i}(x):\n    y = x + {i}\n    return y\n")
        for i in range(40)
    ]
    corpus = build_corpus(files, "test", options)
    assert all(corpus.splits.values())
    for name, functions in corpus.splits.items():
        for function in functions:
            index = function.split("(")[0].removeprefix("def f")
            assert split_of(f"mod{index}.py", options) == name
    assert build_corpus(files, "test", options).splits == corpus.splits


def test_records_file_with_content_field(tmp_path):
    data = tmp_path / "code.jsonl"
    data.write_text(
        "".join(json.dumps({"content": MODULE, "path": f"m{i}.py"}) + "\n" for i in [1])
    )
    corpus = load_corpus(
        str(data), CorpusOptions(validation_percent=0, test_percent=0, **FUNCTIONS)
    )
    assert len(corpus.splits["train"]) == 3


def test_records_without_content_or_text_field_fail_in_one_line(tmp_path):
    data = tmp_path / "code.jsonl"
    data.write_text(json.dumps({"source": MODULE}) + "\n")
    with pytest.raises(UserError, match="no 'content' or 'text' field"):
        load_corpus(str(data))


def test_directory_without_functions_is_an_empty_corpus_error(tmp_path):
    (tmp_path / "empty.py").write_text("x = 1\n")
    with pytest.raises(UserError, match="no usable Python files"):
        load_corpus(str(tmp_path))


def test_standard_library_default_leaves_out_test_suites():
    corpus = load_corpus("stdlib", CorpusOptions(max_files=60))
    assert "standard library" in corpus.summary.source
    assert corpus.summary.files == 60
    assert corpus.splits["train"]


def test_text_file_is_one_source_file(tmp_path):
    data = tmp_path / "code.txt"
    data.write_text(MODULE)
    corpus = load_corpus(
        str(data), CorpusOptions(validation_percent=0, test_percent=0, **FUNCTIONS)
    )
    assert len(corpus.splits["train"]) == 3


def test_parquet_file_with_text_field(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = tmp_path / "code.parquet"
    pq.write_table(pa.table({"text": [MODULE, "def broken(:\n"]}), data)
    corpus = load_corpus(str(data), CorpusOptions(validation_percent=0, test_percent=0))
    assert corpus.summary.files == 2
    assert corpus.summary.unparsable_files == 1


def test_unknown_hub_name_offline_fails_in_one_line(monkeypatch):
    monkeypatch.setattr("training.code_model.sources.hub_reachable", lambda: False)
    with pytest.raises(UserError, match="hub is unreachable"):
        load_corpus("someone/python-functions")


def test_whole_files_are_the_default_unit():
    corpus = build_corpus([SourceFile(f"m{i}.py", MODULE) for i in range(1)], "test",
                          CorpusOptions(validation_percent=0, test_percent=0))  # fmt: skip
    assert corpus.splits["train"] == [MODULE]


def varied_module(i: int) -> str:
    return "".join(f"def f{i}_{j}(x):\n    return x * {i * 100 + j} + {j}\n\n" for j in range(8))


def test_a_group_is_held_out_whole():
    files = [SourceFile(f"pkg{g}/m{i}.py", varied_module(10 * g + i), f"pkg{g}")
             for g in range(30) for i in range(3)]  # fmt: skip
    options = CorpusOptions(validation_percent=10, test_percent=20)
    corpus = build_corpus(files, "test", options)
    for split, kept in corpus.files.items():
        assert kept and all(split_of(f.group, options) == split for f in kept)
    assert sum(corpus.summary.groups_per_split.values()) == 30


def test_validation_is_never_left_empty():
    files = [SourceFile(f"m{i}.py", varied_module(i)) for i in range(4)]
    corpus = build_corpus(files, "test", CorpusOptions(validation_percent=0.01, test_percent=0.01))
    assert all(corpus.splits.values())


def test_near_duplicate_files_are_dropped():
    copy = varied_module(1).replace("return x * 100 + 0", "return x * 100")  # one line edited
    files = [SourceFile("a.py", varied_module(1)), SourceFile("b.py", copy),
             SourceFile("c.py", varied_module(2))]  # fmt: skip
    corpus = build_corpus(files, "test", CorpusOptions(validation_percent=0, test_percent=0))
    assert corpus.summary.near_duplicates == 1
    assert len(corpus.splits["train"]) == 2


def test_tests_vendored_and_generated_code_are_left_out():
    assert is_skipped_path(Path("pkg/tests/test_x.py"))
    assert is_skipped_path(Path("pip/_vendor/rich/text.py"))
    assert is_skipped_path(Path("pkg/conftest.py"))
    assert not is_skipped_path(Path("pkg/core/frame.py"))
    assert restricted("GPL-3.0-or-later") and not restricted("BSD-3-Clause")


def test_installed_packages_carry_name_version_and_licence():
    files, packages = installed_packages()
    by_name = {p.name.lower(): p for p in packages}
    assert by_name["torch"].version.startswith("2.") and by_name["torch"].files > 100
    assert all(p.licence for p in packages)
    assert "nanopilot" not in by_name
    assert all(f.group for f in files)
