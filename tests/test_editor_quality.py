"""benchmarks/editor_quality.py: the leak guard, its metrics, and a run through the real server."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from tests.conftest import REPO_ROOT
from training.code_model.corpus import CorpusOptions, SourceFile, assign_splits

spec = importlib.util.spec_from_file_location(
    "editor_quality", REPO_ROOT / "benchmarks" / "editor_quality.py"
)
editor_quality = importlib.util.module_from_spec(spec)
sys.modules["editor_quality"] = editor_quality  # dataclasses look their module up there
spec.loader.exec_module(editor_quality)

MODULE = """def scale(values, factor):
    result = []
    for value in values:
        result.append(value * factor)
    return result


def shift(values, offset):
    return [value + offset for value in values]
"""
# The synthetic package of the end-to-end run: one function body, whose one statement start the
# tiny model completes exactly (tests/tiny_model.py), and modules without function bodies.
PACKAGE = {
    "pkg/core.py": '"""Names."""\n\nNAMES = ["a", "b"]\nLIMITS = {"low": 1}\n',
    "pkg/extra.py": '"""Sizes."""\n\nSIZES = [1, 2, 3]\nDEFAULT = "small"\n',
    "pkg/sub/more.py": '"""More."""\n\nMORE = True\nLESS = False\n',
    "pkg/zz.py": "def add(a, b):\n    return a + b\n\n\nLIMIT = 10\n",
}


def package_files() -> list[SourceFile]:
    names = ["pkg/pkg/core.py", "pkg/pkg/extra.py", "pkg/pkg/sub/more.py", "pkg/pkg/zz.py"]
    texts = [MODULE, MODULE.replace("value", "item"), MODULE.replace("values", "xs"), MODULE]
    return [SourceFile(name, text, "pkg") for name, text in zip(names, texts, strict=True)]


def test_no_target_survives_in_the_workspace_or_a_buffer(tmp_path):
    files = package_files()
    cases = editor_quality.editor_cases(files, 50, ["statement", "midline"], seed=0)
    assert {case.kind for case in cases} == {"statement", "midline"}
    assert {case.path for case in cases} >= {"pkg/core.py", "pkg/zz.py"}
    workspace = editor_quality.build_workspace(tmp_path, files, cases)
    for case in cases:
        on_disk = (tmp_path / case.path).read_text().split("\n")[case.line]
        assert case.target not in on_disk and len(on_disk) <= case.column
        for mode in editor_quality.CONTEXT_MODES:
            buffer = editor_quality.document(workspace, case, mode).split("\n")
            original = MODULE if case.path == "pkg/core.py" else None
            if original:  # the typed part is there, the rest of the line is not
                assert buffer[case.line] == original.split("\n")[case.line][: case.column]
            editor_quality.assert_no_leak(case.path, "\n".join(buffer), cases, typed=case)
        assert len(editor_quality.document(workspace, case, "cursor").split("\n")) == case.line + 1
    uncut = workspace.originals["pkg/core.py"]
    with pytest.raises(AssertionError, match="holds the target"):
        editor_quality.assert_no_leak("pkg/core.py", uncut, cases)


def test_neighbouring_tabs_prefer_the_same_folder():
    paths = ["pkg/a.py", "pkg/b.py", "pkg/c.py", "pkg/sub/d.py", "pkg/z.py"]
    assert editor_quality.neighbours("pkg/b.py", paths) == ["pkg/a.py", "pkg/c.py", "pkg/z.py"]
    assert editor_quality.neighbours("pkg/sub/d.py", paths, 2) == ["pkg/c.py", "pkg/z.py"]


def test_word_by_word_accept_keeps_whole_words_while_they_are_right():
    assert editor_quality.word_steps("os.path.join(x, y)") == [
        "os", ".", "path", ".", "join", "(", "x", ", ", "y", ")"
    ]  # fmt: skip
    assert editor_quality.word_steps("return  a") == ["return", "  ", "a"]
    assert editor_quality.chars_kept("return a + b", "return a + b") == 100.0
    assert editor_quality.chars_kept("return a - b", "return a + b") == 75.0  # "return a "
    assert editor_quality.chars_kept("returns", "return a") == 0.0  # a word is all or nothing
    assert editor_quality.chars_kept("", "return a") == 0.0


def test_wrong_from_the_first_character():
    assert editor_quality.wrong_from_first_char("x = 1", "y = 2")
    assert not editor_quality.wrong_from_first_char("y = 3", "y = 2")
    assert not editor_quality.wrong_from_first_char(" y", "y = 2")  # spacing is not a character
    assert not editor_quality.wrong_from_first_char("", "y = 2")  # nothing shown is not wrong
    scores = editor_quality.case_scores("", "y = 2")
    assert scores["nothing_shown"] == 100.0 and scores["edit_similarity"] == 0.0


def test_configurations_from_the_command_line():
    config = editor_quality.parse_config('tabs=/models/x:{"index": "tabs"}')
    assert (config.label, str(config.model), config.settings) == ("tabs", "/models/x",
                                                                  {"index": "tabs"})  # fmt: skip
    assert editor_quality.parse_config("plain=/models/x").settings == {}
    for bad in ["no-model", "x=/m:[1]", "x=/m:{nope"]:
        with pytest.raises(editor_quality.argparse.ArgumentTypeError):
            editor_quality.parse_config(bad)


def test_a_run_through_the_real_server(tmp_path, tiny_model_dir, capsys):
    data = tmp_path / "src"
    modules = PACKAGE | {
        f"{group}/mod.py": MODULE.replace("values", group) for group in ["other", "third"]
    }  # three groups: split by group
    for name, text in modules.items():
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        (data / name).write_text(text)
    split = assign_splits(["other", "pkg", "third"], CorpusOptions())["pkg"]
    out = tmp_path / "results"
    editor_quality.main([
        "--data", str(data), "--split", split, "--groups", "pkg", "--cases", "40",
        "--config", f"tiny={tiny_model_dir}", "--config",
        f'tiny, index off={tiny_model_dir}:{{"index": "off"}}',
        "--previous_model", str(tiny_model_dir), "--threads", "1", "--out", str(out),
    ])  # fmt: skip
    printed = capsys.readouterr().out
    assert "| configuration | context | statement EM % |" in printed
    results = json.loads((out / "editor-quality.json").read_text())
    assert (out / "editor-quality.png").stat().st_size > 0
    labels = ["tiny", "tiny, index off", editor_quality.PREVIOUS]
    assert [c["label"] for c in results["configurations"]] == labels
    assert list(results["results"]) == labels and results["groups"] == ["pkg"]
    for label in labels:
        for mode in editor_quality.CONTEXT_MODES:
            for kind, figures in results["results"][label][mode].items():
                assert figures["cases"] == results["cases"][kind]
                assert sum(figures["sources"].values()) == figures["cases"]
                assert all(0 <= figures[key] <= 100 for key in editor_quality.METRICS)
            # the one statement start: "def add(a, b):\n    " -> "return a + b", right
            statement = results["results"][label][mode]["statement"]
            assert statement["cases"] == 1 and statement["sources"] == {"model": 1}  # the item's
            for key in ["exact_match", "edit_similarity", "chars_kept"]:
                assert statement[key] == 100.0
            assert statement["wrong_first_char"] == statement["nothing_shown"] == 0.0
    answers = [p for p in results["predictions"]["tiny"] if p["kind"] == "statement"]
    assert answers[0] == {"mode": "file", "kind": "statement", "path": "zz.py", "line": 2,
                          "target": "return a + b", "suggestion": "return a + b",
                          "source": "model"}  # fmt: skip
    assert results["cases"] == {"statement": 1, "midline": 3}  # between the tokens of a + b
