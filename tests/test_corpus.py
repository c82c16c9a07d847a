"""The function corpus: extraction with ast, de-duplication, length bounds, split by file."""

from __future__ import annotations

import json

import pytest

from training.corpus import (
    CorpusOptions,
    SourceFile,
    build_corpus,
    extract_functions,
    load_corpus,
    split_of,
)
from training.errors import UserError

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
    corpus = build_corpus(files, "test")
    assert corpus.summary.unparsable_files == 1
    assert corpus.summary.files == 2


def test_exact_and_whitespace_normalised_duplicates_are_dropped():
    spaced = MODULE.replace("total = a + b", "total  =  a + b")
    files = [SourceFile("a.py", MODULE), SourceFile("b.py", MODULE), SourceFile("c.py", spaced)]
    corpus = build_corpus(files, "test", CorpusOptions(validation_percent=0, test_percent=0))
    assert corpus.summary.exact_duplicates == 5  # b.py: all three; c.py: two unchanged
    assert corpus.summary.normalised_duplicates == 1
    assert len(corpus.splits["train"]) == 3


def test_length_bounds():
    options = CorpusOptions(min_lines=5, max_chars=108, validation_percent=0, test_percent=0)
    corpus = build_corpus([SourceFile("a.py", MODULE)], "test", options)
    assert corpus.summary.too_short == 1  # greet: four lines with its class header
    assert corpus.summary.too_long == 1  # nested: 110 characters
    assert [f.split("(")[0] for f in corpus.splits["train"]] == ["@functools.cache\ndef add"]


def test_split_is_by_file_and_stable():
    options = CorpusOptions(validation_percent=20, test_percent=20)
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
    corpus = load_corpus(str(data), CorpusOptions(validation_percent=0, test_percent=0))
    assert len(corpus.splits["train"]) == 3


def test_records_without_content_or_text_field_fail_in_one_line(tmp_path):
    data = tmp_path / "code.jsonl"
    data.write_text(json.dumps({"source": MODULE}) + "\n")
    with pytest.raises(UserError, match="no 'content' or 'text' field"):
        load_corpus(str(data))


def test_directory_without_functions_is_an_empty_corpus_error(tmp_path):
    (tmp_path / "empty.py").write_text("x = 1\n")
    with pytest.raises(UserError, match="no usable Python functions"):
        load_corpus(str(tmp_path))


def test_standard_library_default_leaves_out_test_suites():
    corpus = load_corpus(None, CorpusOptions(max_files=60))
    assert "standard library" in corpus.summary.source
    assert corpus.summary.files == 60
    assert corpus.splits["train"]


def test_text_file_is_one_source_file(tmp_path):
    data = tmp_path / "code.txt"
    data.write_text(MODULE)
    corpus = load_corpus(str(data), CorpusOptions(validation_percent=0, test_percent=0))
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
    monkeypatch.setattr("training.corpus.hub_reachable", lambda: False)
    with pytest.raises(UserError, match="hub is unreachable"):
        load_corpus("someone/python-functions")
