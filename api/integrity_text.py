"""The verification report in words, for ``callcraft audit verify`` (one line per fact)."""

from __future__ import annotations

from collections.abc import Iterator

from domain.hash_chain import IntegrityReport


def summary(report: IntegrityReport) -> str:
    counts = ", ".join(f"{kind} {count}" for kind, count in sorted(report.kinds.items()))
    total = len(report.problems) + report.uncounted
    return f"{total} problem{'s' if total != 1 else ''} ({counts})"


def report_lines(report: IntegrityReport, key_id: str) -> Iterator[str]:
    yield (
        f"checked {report.events_checked:,} stored events against the chain "
        f"(sealed to position {report.sealed_head:,}) and {report.checkpoints:,} "
        f"checkpoint{'' if report.checkpoints == 1 else 's'} "
        f"(signed to position {report.signed_head:,}; key {key_id})"
    )
    if report.not_yet_sealed:
        yield (
            f"not yet sealed: {report.not_yet_sealed:,} events after position "
            f"{report.sealed_head:,} (recorded since the last seal; not tampering)"
        )
    for problem in report.problems:
        yield f"PROBLEM {problem.kind.value} at {problem.position}: {problem.description}"
    if report.uncounted:
        yield f"… and {report.uncounted:,} more problems not listed"
    if report.clean:
        yield "OK: every sealed event is exactly as it was sealed, every checkpoint holds"
