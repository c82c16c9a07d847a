"""Line-completion cases and scores, and `training.evaluate` on tiny saved models."""

from __future__ import annotations

import json

import pytest

from server.errors import UserError
from tests.tiny_model import CORPUS, FUNCTIONS
from training.code_model.evaluate import main, neighbourhood
from training.code_model.line_completion import (
    Scores,
    build_cases,
    cursor_positions,
    cut_case,
    edit_similarity,
    exact_match,
    statement_lines,
)

SOURCE = '''import os


def f(x):
    """Doc
    string."""
    y = (x +
         1)
    return os.path.join(y, "a")
'''


def test_statement_cursors_start_after_the_indentation_outside_docstrings():
    assert statement_lines(SOURCE) == [6, 8]
    assert cursor_positions(SOURCE, "statement") == [(6, 4), (8, 4)]
    case = cut_case(SOURCE, 6, 4)
    assert case.prefix.startswith("import os\n") and case.prefix.endswith('string."""\n    ')
    assert case.target == "y = (x +"
    assert case.suffix.startswith("\n         1)")
    assert case.prefix + case.target + case.suffix == SOURCE


def test_midline_cursors_sit_between_tokens_of_a_statement_line():
    cursors = cursor_positions(SOURCE, "midline")
    assert (8, 11) in cursors  # "return |os.path..."
    assert (6, 4) not in cursors and (8, 4) not in cursors  # statement starts are the other kind
    case = cut_case(SOURCE, 8, 11)
    assert case.prefix.endswith("    return ") and case.target == 'os.path.join(y, "a")'


def test_cases_are_seeded_and_drawn_from_all_files():
    sources = [SOURCE.replace("def f(", f"def f{i}(") for i in range(10)]
    cases = build_cases(sources, 8, "midline", seed=3)
    assert len(cases) == 8
    assert build_cases(sources, 8, "midline", seed=3) == cases
    assert len({case.prefix.split("def ")[1].split("(")[0] for case in cases}) > 2


def test_scores():
    assert exact_match("return  a + b ", "return a + b")
    assert not exact_match("return a", "return a + b")
    assert edit_similarity("return a + b", "return a + b") == 100.0
    assert 0 < edit_similarity("return a", "return a + b") < 100
    assert edit_similarity("", "return a + b") == 0.0
    cases = [cut_case(SOURCE, 6, 4), cut_case(SOURCE, 8, 4)]
    scores = Scores.of(["y = (x +", "pass"], cases)
    assert scores.exact_match == 50.0 and scores.exact_match_se == 50.0
    assert 0 < scores.edit_similarity < 100 and scores.edit_similarity_se > 0


@pytest.fixture()
def memorised_data(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "functions.py").write_text("\n\n".join(FUNCTIONS))
    return source


def test_evaluate_scores_models_through_the_engine(
    tmp_path, memorised_data, tiny_model_dir, tiny_fim_model_dir, capsys
):
    out = tmp_path / "evaluation.json"
    main(["--model", str(tiny_model_dir), str(tiny_fim_model_dir), "--data", str(memorised_data),
          "--split", "train", "--json", str(out)])  # fmt: skip
    baseline, plain, fim = json.loads(out.read_text())["results"]
    assert not plain["fim_prompt"] and not fim["fim_prompt"]  # the server's default: prefix only
    statements = len(statement_lines(CORPUS))  # every statement start of the file
    assert plain["statement"]["exact_match"] >= 60  # it memorised the functions
    assert plain["midline"]["edit_similarity"] >= 60
    assert plain["perplexity"] < 15  # over the whole file: function order is unpredictable
    assert plain["statement"]["edit_similarity"] > baseline["statement"]["edit_similarity"]
    # The tiny FIM model learned single functions in PSM form: scored, not expected to shine.
    assert plain["statement"]["cases"] == fim["statement"]["cases"] == statements
    assert baseline["statement"]["constant"]  # the commonest training line (here: a tie)
    assert "statement EM %" in capsys.readouterr().out
    # --use_suffix gives a FIM model the rest of the file (the tiny one only knows functions)
    main(["--model", str(tiny_fim_model_dir), "--data", str(memorised_data), "--split", "train",
          "--use_suffix", "--kinds", "statement", "--json", str(out)])  # fmt: skip
    with_suffix = json.loads(out.read_text())["results"][1]
    assert with_suffix["fim_prompt"] and with_suffix["statement"]["cases"] == statements


def test_split_without_cases_is_one_line(tmp_path, memorised_data, tiny_model_dir):
    with pytest.raises(UserError, match="test split has no function bodies"):
        main(["--model", str(tiny_model_dir), "--data", str(memorised_data)])


def test_the_onnx_decoder_and_a_group_filter(tmp_path, memorised_data, tiny_model_dir):
    out = tmp_path / "evaluation.json"
    main(["--model", str(tiny_model_dir), "--data", str(memorised_data), "--split", "train",
          "--decoder", "onnx", "--kinds", "statement", "--json", str(out)])  # fmt: skip
    _, int8 = json.loads(out.read_text())["results"]
    assert int8["decoder"] == "onnx" and int8["statement"]["exact_match"] >= 60
    with pytest.raises(UserError, match="none of elsewhere is in the train split; it has: "):
        main(["--model", str(tiny_model_dir), "--data", str(memorised_data), "--split", "train",
              "--groups", "elsewhere"])  # fmt: skip


def test_the_copy_test_snippet_is_the_target_line_and_three_lines_either_side():
    source = "".join(f"line{n} = {n}\n" for n in range(10))
    case = cut_case(source, 5, 8)  # "line5 = |5"
    assert neighbourhood(case) == "".join(f"line{n} = {n}\n" for n in range(2, 9))
    assert neighbourhood(cut_case(source, 1, 0)).startswith("line0 = 0\nline1 = 1\n")


def test_the_copy_test_scores_the_same_cases_with_the_snippet(
    tmp_path, memorised_data, tiny_model_dir, capsys
):
    out = tmp_path / "evaluation.json"
    main(["--model", str(tiny_model_dir), "--data", str(memorised_data), "--split", "train",
          "--kinds", "statement", "--copy_test", "--json", str(out)])  # fmt: skip
    plain = json.loads(out.read_text())["results"][1]
    with_snippet = plain["copy_test"]["statement"]
    assert with_snippet["cases"] == plain["statement"]["cases"] == len(statement_lines(CORPUS))
    assert 0 <= with_snippet["edit_similarity"] <= 100
    assert "| ES without snippet | ES with snippet |" in capsys.readouterr().out
