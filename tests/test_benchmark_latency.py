"""benchmarks/latency.py keeps working: its session helpers, and a five-request run."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from tests.conftest import REPO_ROOT

spec = importlib.util.spec_from_file_location("latency", REPO_ROOT / "benchmarks" / "latency.py")
latency = importlib.util.module_from_spec(spec)
sys.modules["latency"] = latency  # dataclasses look their module up there
spec.loader.exec_module(latency)


def test_keystrokes_insert_line_breaks_with_their_indentation():
    assert latency.keystrokes("ab\n    c") == ["a", "b", "\n    ", "c"]
    assert [latency.is_pause(chunk) for chunk in ["a", " ", "(", "\n  "]] == [0, 1, 1, 1]


def test_typing_region_holds_the_requested_pauses():
    text = "x = 1\n" * 50
    start, end = latency.typing_region(text, 10, 0.5)
    assert text[start - 1] == "\n" and text[end] == "\n"  # whole lines
    assert 10 <= sum(map(latency.is_pause, latency.keystrokes(text[start:end]))) <= 13


def test_benchmark_runs_end_to_end(tmp_path, tiny_model_dir, capsys):
    latency.main(["--model", str(tiny_model_dir), "--requests", "5", "--fresh-spots", "3",
                  "--threads", "1", "--out", str(tmp_path)])  # fmt: skip
    out = capsys.readouterr().out
    assert "naive: model.generate" in out and "server faster" in out
    assert f"{latency.SERVED_LEAN}: " in out  # its ratio to naive
    figures = json.loads((tmp_path / f"latency-{tiny_model_dir.name}.json").read_text())
    assert figures["requests"] >= 5
    paths = {latency.SERVED, latency.SERVED_LEAN, latency.SERVED_HF, latency.NAIVE,
             latency.NAIVE_STOP}  # fmt: skip
    assert set(figures["typing"]) == set(figures["fresh_spot"]) == paths
    assert figures["fresh_spots"] == 3
    for section in ("typing", "fresh_spot"):  # each row's figures, and its ratio to the server's
        served = figures[section][latency.SERVED]
        for path, row in figures[section].items():
            assert 0 < row["p50"] <= row["p95"] <= row["max"], (section, path)
            if path != latency.SERVED:
                assert row["slower_p95"] == pytest.approx(row["p95"] / served["p95"])
    assert 0 < figures["kv_reuse_rate"] <= 1  # typing reuses the key/value cache
    assert (tmp_path / f"latency-{tiny_model_dir.name}.png").stat().st_size > 0


def test_workspace_mode_measures_the_index_against_index_off(tmp_path, tiny_model_dir, capsys):
    latency.main(["--model", str(tiny_model_dir), "--requests", "3", "--fresh-spots", "2",
                  "--threads", "1", "--workspace", "120", "--out", str(tmp_path)])  # fmt: skip
    out = capsys.readouterr().out
    assert "the index adds" in out and "goal with default settings" in out
    results = tmp_path / f"latency-workspace120-{tiny_model_dir.name}.json"
    figures = json.loads(results.read_text())
    rows = {latency.WITH_INDEX, latency.INDEX_OFF}
    assert set(figures["typing"]) == set(figures["fresh_spot"]) == rows
    assert figures["settings"] == {}  # the server's defaults, index workspace
    assert figures["workspace_files"] == 120 and 0 < figures["indexed_files"] <= 120
    assert figures["document_lines"] >= latency.BIG_DOCUMENT_LINES
    assert 2 <= figures["open_documents"] <= latency.OPEN_DOCUMENTS
    for section in ("typing", "fresh_spot"):
        with_index, off = figures[section][latency.WITH_INDEX], figures[section][latency.INDEX_OFF]
        assert figures["index_adds_ms"][section]["p95"] == pytest.approx(
            with_index["p95"] - off["p95"]
        )
        assert with_index["slower_p95"] == pytest.approx(with_index["p95"] / off["p95"])
    assert (tmp_path / f"latency-workspace120-{tiny_model_dir.name}.png").stat().st_size > 0
