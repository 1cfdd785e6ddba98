"""The one table `make bench` prints, and the same figures as JSON."""

from __future__ import annotations

import json
import math
import os
import platform
from pathlib import Path
from typing import Any

from bench.measure import Figure, Series


def _value(series: Series | None) -> str:
    if series is None or not series.runs:
        return "—"
    value = series.median
    if math.isnan(value):
        return "—"
    if series.unit == "ms":
        return f"{value:,.2f} ms"
    if series.unit == "MiB":
        return f"{value:,.1f} MiB"
    return f"{value:,.0f} {series.unit}"


def table(figures: list[Figure]) -> str:
    header = ("figure", "db", "ours (median)", "ceiling", "ceiling (median)", "ours/ceiling")
    rows: list[tuple[str, ...]] = [header]
    for figure in figures:
        ratio = figure.ratio
        rows.append(
            (
                figure.name,
                figure.database,
                figure.missing or _value(figure.ours),
                figure.ceiling.label if figure.ceiling else "",
                _value(figure.ceiling),
                f"{ratio:.0%}" if ratio is not None else "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {2, 4, 5}

    def line(row: tuple[str, ...]) -> str:
        cells = (
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        return "| " + " | ".join(cells) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if i in right else ("-" * (w + 2)) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(rows[0]), rule, *(line(r) for r in rows[1:])])


def _series(series: Series | None) -> dict[str, Any] | None:
    if series is None:
        return None
    return {
        "label": series.label,
        "unit": series.unit,
        "median": series.median if series.runs else None,
        "runs": series.runs,
        "note": series.note,
    }


def write_json(path: Path, figures: list[Figure], context: dict[str, Any]) -> None:
    document = {
        "context": {
            **context,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
        },
        "figures": [
            {
                "figure": f.name,
                "database": f.database,
                "missing": f.missing or None,
                "ours": _series(f.ours),
                "ceiling": _series(f.ceiling),
                "ratio": f.ratio,
            }
            for f in figures
        ],
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
