"""Memory while importing: the peak RSS growth of ``callcraft import`` at two file sizes.

Each import runs in a process of its own (``python -m bench.memory JOB.json``), so that one
measurement's allocations cannot hide in another's: the process opens the store, notes its
resident size, imports the file and reports how far its peak resident size rose above that.
Flat memory means the larger file's growth is about the smaller one's.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

from bench.data import NOW

ROOT = Path(__file__).resolve().parents[1]


def _resident_kib() -> int:
    with Path("/proc/self/statm").open() as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() // 1024


def _reset_peak() -> bool:
    """Start the peak resident size afresh (Linux: 5 > /proc/self/clear_refs), so that what
    start-up allocated and freed is not taken for the import's peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def peak_growth_mib(event_env: dict[str, str], csv_path: Path, expected: int) -> float:
    """Import ``csv_path`` into the store in a fresh process; its peak RSS growth in MiB."""
    job = {"env": event_env, "csv": str(csv_path), "expected": expected}
    done = subprocess.run(  # noqa: S603 - our own module, our own arguments
        [sys.executable, "-m", "bench.memory", json.dumps(job)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the memory benchmark's import failed: {done.stderr[-2000:]}")
    return float(json.loads(done.stdout.splitlines()[-1])["growth_mib"])


def main(job_text: str) -> int:
    from api.importer import import_file
    from domain.application import Callcraft

    job = json.loads(job_text)
    app = Callcraft(env=job["env"])
    try:
        app.rulebooks()  # warm: what every import needs before its first row
        before = _resident_kib()
        _reset_peak()
        report = import_file(app, Path(job["csv"]), "csv", now=NOW)
        peak = _peak_kib()
    finally:
        app.close()
    if report.problems or report.recorded != job["expected"]:
        print(f"recorded {report.recorded} of {job['expected']}", file=sys.stderr)
        return 1
    print(json.dumps({"growth_mib": max(0, peak - before) / 1024}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
