"""The one-at-a-time recording figure alone, as ``make bench`` measures it, in a minute:
``python -m bench.single [--databases sqlite,postgres] [--scale quick] [--runs N]``.

Same data, same steps and the same turn-taking as ``bench.run`` (a keyed and an unkeyed
``Callcraft.record`` beside the library's one ``app.save`` per event on the same recorder and
durability), so that a change to the write path can be compared with ``main`` run just before
or after it. Prints one line per database with the machine's load beside the rates.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

from bench.ceilings import CeilingApp, library_one_save_per_event
from bench.data import NOW, command_for, make_centre, recognition_rows, set_up_centre
from bench.figures import record_one_by_one
from bench.measure import rates_taking_turns
from bench.places import DEFAULT_POSTGRES_URL, Places, postgres_problem
from bench.scale import SCALES, Scale
from domain.application import Callcraft


def one_at_a_time(kind: str, scale: Scale, runs: int, root: Path, postgres_url: str) -> str:
    places = Places(kind, root, postgres_url)
    centre = make_centre(scale.agents)
    n = scale.single_recordings
    seed = 2026
    with places.fresh("single") as single, places.fresh("ceiling") as ceiling:
        app = Callcraft(env=single.event_env())
        library = CeilingApp(env=ceiling.event_env())
        try:
            set_up_centre(app, centre)
            given: Counter[tuple[int, date]] = Counter()
            keyed = list(
                recognition_rows(seed, centre, runs * n + 1, key_prefix="single", kudos_given=given)
            )
            unkeyed = list(
                recognition_rows(seed + 1, centre, runs * n, keyed=False, kudos_given=given)
            )
            app.record(command_for(keyed[0]), now=NOW)  # warm-up, as bench.run does
            rates: dict[str, list[float]] = {"keyed": [], "unkeyed": [], "library": []}
            for run in range(runs):
                turns = rates_taking_turns(
                    n,
                    {
                        "keyed": record_one_by_one(app, keyed[1 + run * n : 1 + (run + 1) * n]),
                        "unkeyed": record_one_by_one(app, unkeyed[run * n : (run + 1) * n]),
                        "library": library_one_save_per_event(library),
                    },
                )
                for name, value in turns.items():
                    rates[name].append(value)
        finally:
            app.close()
            library.close()
    median = {name: statistics.median(values) for name, values in rates.items()}
    lib = median["library"]
    return (
        f"{kind}: record, key {median['keyed']:,.0f}/s ({median['keyed'] / lib:.0%}); "
        f"no key {median['unkeyed']:,.0f}/s ({median['unkeyed'] / lib:.0%}); "
        f"library one save per event {lib:,.0f}/s; runs (key) "
        f"{', '.join(f'{r:,.0f}' for r in rates['keyed'])}; load {_load()}"
    )


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.single", description=__doc__)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--scale", choices=sorted(SCALES), default="quick")
    parser.add_argument("--runs", type=int, default=None, help="default: the scale's runs")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    options = parser.parse_args(argv)
    scale = SCALES[options.scale]
    with tempfile.TemporaryDirectory(prefix="callcraft-single-") as root:
        for kind in [name.strip() for name in options.databases.split(",") if name.strip()]:
            problem = postgres_problem(options.postgres_url) if kind == "postgres" else None
            if problem:
                print(f"skipping {kind}: {problem}", file=sys.stderr)
                continue
            print(
                one_at_a_time(
                    kind, scale, options.runs or scale.runs, Path(root), options.postgres_url
                ),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
