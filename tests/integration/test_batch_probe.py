"""``python -m bench.batches`` (what a live batch costs the projector on a large store) runs:
at the smoke scale it builds its store, applies the live rows batch by batch and reports."""

from __future__ import annotations

from pathlib import Path

from bench.batches import main


def test_the_batch_probe_applies_the_live_recordings_in_batches_and_reports_them(
    tmp_path: Path,
) -> None:
    argv = ["--scale", "smoke", "--recordings", "30", "--batch", "10", "--stores", str(tmp_path)]
    figures = main(argv)
    assert figures["batches"] == 3
    assert figures["wall p50 ms"] > 0
    assert figures["CPU p90 ms"] > 0
    if Path("/proc/self/io").exists():  # Linux: the reads and writes a batch, counted
        assert figures["write calls/batch"] > 0
        assert figures["write MB/batch"] > 0
        assert figures["read calls/batch"] >= 0
    assert len(list(tmp_path.iterdir())) == 1  # the store, kept for the next run
