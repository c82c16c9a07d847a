"""Line-completion cases and scores, and `training.evaluate` on tiny saved models."""

from __future__ import annotations

import json

import pytest

from tests.tiny_model import FUNCTIONS
from training.errors import UserError
from training.evaluate import main
from training.line_completion import (
    build_cases,
    cut_case,
    edit_similarity,
    exact_match,
    statement_lines,
)

FUNCTION = '''def f(x):
    """Doc
    string."""
    y = (x +
         1)
    return y
'''


def test_cases_start_at_statements_outside_docstrings():
    assert statement_lines(FUNCTION) == [3, 5]
    case = cut_case(FUNCTION, 3)
    assert case.prefix.endswith('string."""\n    ')
    assert case.target == "y = (x +"
    assert case.prefix + case.target + case.suffix == FUNCTION


def test_cases_are_seeded_and_one_per_function():
    functions = [FUNCTION.replace("f(", f"f{i}(") for i in range(10)]
    cases = build_cases(functions, 5, seed=3)
    assert len(cases) == 5
    assert len({case.prefix.split("(")[0] for case in cases}) == 5
    assert build_cases(functions, 5, seed=3) == cases


def test_scores():
    assert exact_match("return  a + b ", "return a + b")
    assert not exact_match("return a", "return a + b")
    assert edit_similarity("return a + b", "return a + b") == 100.0
    assert 0 < edit_similarity("return a", "return a + b") < 100
    assert edit_similarity("", "return a + b") == 0.0


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
          "--split", "train", "--min_lines", "2", "--json", str(out)])  # fmt: skip
    results = json.loads(out.read_text())["results"]
    plain, fim = results
    assert not plain["fim_prompt"] and fim["fim_prompt"]
    for result in results:
        assert result["cases"] == len(FUNCTIONS)
        assert result["exact_match"] >= 60  # these models memorised the functions
        assert result["edit_similarity"] >= result["exact_match"]
        assert result["perplexity"] < 5
    assert "EM %" in capsys.readouterr().out


def test_split_without_cases_is_one_line(tmp_path, memorised_data, tiny_model_dir):
    with pytest.raises(UserError, match="test split has no function bodies"):
        main(["--model", str(tiny_model_dir), "--data", str(memorised_data)])
