"""server/stats.py: the counters and percentiles of nanopilot.status."""

from __future__ import annotations

from server.stats import ServerStats, percentile


def test_stats_summary():
    stats = ServerStats()
    for value in range(1, 101):
        stats.record(float(value))
    stats.lru_hits, stats.typing_hits = 10, 15
    summary = stats.summary()
    assert summary["latencyMsP50"] == 50.0
    assert summary["latencyMsP95"] == 95.0
    assert summary["cacheHitRate"] == 0.25
    assert percentile([], 0.5) is None
