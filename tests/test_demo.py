"""`python -m server.demo`: suggestions at FILE:LINE:COL through the server's code path."""

from __future__ import annotations

import pytest

from server.demo import DEFAULT_POSITIONS, main, parse_spot
from server.errors import UserError


def test_default_positions_point_into_the_example():
    for position in DEFAULT_POSITIONS:
        spot = parse_spot(position)
        assert spot.rest_of_line.strip(), f"{position} has nothing left to complete"


def test_spot_hides_the_rest_of_the_line(tmp_path):
    source = tmp_path / "a.py"
    source.write_text("def add(a, b):\n    return a + b\n")
    spot = parse_spot(f"{source}:2:5")
    assert spot.prefix == "def add(a, b):\n    "
    assert spot.suffix == "\n"
    assert spot.rest_of_line == "return a + b"


def test_demo_prints_suggestions_latencies_and_how_to_connect(tmp_path, tiny_model_dir, capsys):
    source = tmp_path / "a.py"
    source.write_text("def add(a, b):\n    return a + b\n")
    main([f"{source}:2:5", "--model", str(tiny_model_dir)])
    out = capsys.readouterr().out
    assert "suggestion  |return a + b|" in out
    assert " ms, " in out
    assert "python -m server --stdio" in out


def test_demo_runs_its_default_positions(tiny_model_dir, capsys):
    main(["--model", str(tiny_model_dir)])
    assert capsys.readouterr().out.count("suggestion  ") == len(DEFAULT_POSITIONS)


@pytest.mark.parametrize("position", ["nofile.py:1:1", "a.py", "a.py:x:1", "a.py:9:1", "a.py:1:99"])
def test_bad_positions_are_user_errors(tmp_path, monkeypatch, position):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text("x = 1\n")
    with pytest.raises(UserError):
        parse_spot(position)


def test_missing_model_says_how_to_create_one(tmp_path):
    with pytest.raises(UserError, match="training.finetune"):
        main(["--model", str(tmp_path / "none")])


def test_demo_on_the_shipped_default_model(capsys):
    """The README's main job: `bash scripts/demo` runs exactly this on models/default."""
    main([])
    out = capsys.readouterr().out
    assert "(fill-in-the-middle) on cpu, onnx decoder" in out
    assert out.count("suggestion  ") == len(DEFAULT_POSITIONS)
    # The copy engine: `names.append(` was typed in the file before, with `item.name)` after it.
    assert "inventory.py:34:26  " in out and "copied from inventory.py:25" in out
    assert "suggestion  |item.name)|" in out
