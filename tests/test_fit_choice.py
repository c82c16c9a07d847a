"""benchmarks/fit_choice.py: the fit finds the grid's best thresholds (each kind's confidence
floor on its own) through server/choice.py's own decisions."""

from __future__ import annotations

import itertools
import random

import pytest

from benchmarks import fit_choice
from benchmarks.fit_choice import Answer, Observation, fit, simulate
from server.choice import Thresholds


def observation(rng: random.Random, kind: str) -> Observation:
    def scores() -> dict:
        similarity = rng.uniform(0, 100)
        return {
            "exact_match": 100.0 * (similarity > 95),
            "edit_similarity": similarity,
            "chars_kept": similarity / 2,
            "wrong_first_char": 100.0 * (similarity < 40),
        }

    model = Answer("x", scores(), rng.random(), rng.uniform(-3, 0))
    copy_tokens = rng.choice([0, 4, 5, 9])
    copy_score = rng.uniform(-4, 0) if copy_tokens else None
    return Observation(kind, copy_tokens, scores(), copy_score, model, {})


@pytest.fixture
def small_grid(monkeypatch):
    monkeypatch.setattr(fit_choice, "TOKENS", (4, 5, 1000))
    monkeypatch.setattr(fit_choice, "CONFIDENCES", (0.0, 0.5, 1.01))
    monkeypatch.setattr(fit_choice, "LIKELY", (None, -1.0))
    monkeypatch.setattr(fit_choice, "MARGINS", (None, 0.0))


def test_the_fit_finds_the_best_thresholds_of_the_whole_grid(small_grid):
    rng = random.Random(3)
    observations = [observation(rng, kind) for kind in ("statement", "midline") * 40]
    fitted = fit(observations, 4, scores=True)
    for name, (statement_limit, midline_limit) in fit_choice.WRONG_LIMITS.items():
        best = max(
            sum(figures[kind]["edit_similarity"] for kind in figures)
            for outright, fallback, statement, midline, likely, margin in itertools.product(
                (4, 5, 1000),
                (4, 5, 1000),
                (0.0, 0.5, 1.01),
                (0.0, 0.5, 1.01),
                (None, -1.0),
                (None, 0.0),
            )
            if fallback <= outright
            for figures in [
                simulate(
                    observations, Thresholds(outright, fallback, statement, midline, likely, margin)
                )
            ]
            if figures["statement"]["wrong_first_char"] <= statement_limit
            and figures["midline"]["wrong_first_char"] <= midline_limit
        )
        figures = fitted[name]["figures"]
        assert sum(figures[kind]["edit_similarity"] for kind in figures) == pytest.approx(best)
