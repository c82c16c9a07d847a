"""Repository context: the snippet format the server writes and the training examples that teach
a model to read it."""

from __future__ import annotations

import random

from server.fim import FIM_PREFIX
from server.snippets import Snippet, format_context, jaccard, words
from training.code_model.packing import examples_of
from training.code_model.repo_context import RepoContext
from training.code_model.sources import SourceFile


def module(body_word: str, lines: int = 40) -> str:
    return "".join(
        f"def {body_word}_{i}(value):\n    total = value.{body_word}_attribute\n    return total\n"
        for i in range(lines // 3)
    )


def test_the_format_puts_each_snippet_under_its_path_and_ends_with_the_files_own_path():
    text = format_context([Snippet("pkg/a.py", "x = 1\n\n"), Snippet("b.py", "y = 2")], "pkg/c.py")
    assert text == "# Path: pkg/a.py\nx = 1\n# Path: b.py\ny = 2\n# Path: pkg/c.py\n"
    assert format_context([], "pkg/c.py") == ""


def test_similarity_counts_shared_words():
    assert jaccard(words("a.b(c)"), words("c = a.b")) == 1.0
    assert jaccard(words("alpha"), words("beta")) == 0.0
    assert jaccard(words(""), words("beta")) == 0.0


def test_context_comes_from_the_same_package_and_never_from_the_window_itself_unasked():
    target = SourceFile("pkg/target.py", module("shared"), "pkg")
    sibling = SourceFile("pkg/sibling.py", module("shared"), "pkg")
    stranger = SourceFile("other/stranger.py", module("shared"), "other")
    context = RepoContext([target, sibling, stranger], max_chars=400, self_copy_rate=0.0)
    start = target.text.index("def shared_6")
    end = target.text.index("def shared_9")
    snippets = context.snippets(target, start, end, random.Random(0))
    assert snippets
    assert {snippet.path for snippet in snippets} <= {"pkg/target.py", "pkg/sibling.py"}
    assert sum(len(snippet.text) for snippet in snippets) <= 400
    window = target.text[start:end]
    assert not any(snippet.text in window for snippet in snippets if snippet.path == target.name)


def test_the_copy_lesson_takes_a_chunk_from_inside_the_window():
    target = SourceFile("pkg/target.py", module("only"), "pkg")
    context = RepoContext([target], max_chars=1000, self_copy_rate=1.0)
    end = target.text.index("def only_8")
    snippets = context.snippets(target, 0, end, random.Random(1))
    assert any(snippet.text in target.text[:end] for snippet in snippets)


def test_unrelated_code_is_not_retrieved():
    target = SourceFile("pkg/target.py", module("alpha"), "pkg")
    sibling = SourceFile("pkg/sibling.py", "import os\n\nprint(os.sep)\nprint(os.name)\n", "pkg")
    context = RepoContext([target, sibling], max_chars=1000, self_copy_rate=0.0)
    snippets = context.snippets(target, 0, len(target.text), random.Random(0))
    assert snippets == []


def test_training_examples_carry_the_context_inside_the_fim_prefix():
    target = SourceFile("pkg/target.py", module("shared", 120), "pkg")
    sibling = SourceFile("pkg/sibling.py", module("shared"), "pkg")
    context = RepoContext([target, sibling], max_chars=500, self_copy_rate=0.0)
    examples = examples_of(target.text, random.Random(0), 600, 1.0, "line", context)
    assert len(examples) > 1
    for example in examples:
        assert example.startswith(FIM_PREFIX + "# Path: ")
        assert f"# Path: {target.name}\n" in example
    plain = examples_of(target.text, random.Random(0), 600, 0.0, "line", context)
    assert all(example.startswith("# Path: ") for example in plain)
    assert examples_of(target.text, random.Random(0), 600, 0.0, "line", None) == [target.text]


def test_a_document_outside_the_split_files_gets_no_context():
    context = RepoContext([SourceFile("a.py", "x = 1\n", "")], max_chars=300)
    assert context.example("y = 2\n", 0, 6, "y = 2\n", random.Random(0)) == "y = 2\n"
