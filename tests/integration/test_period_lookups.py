"""A batch finds every stored row of the periods it touched, whatever the planner knows: it
adds its XP to them, and a row it missed would be written again from nothing (a UNIQUE
violation, where the property test of what a projector keeps found it)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from sqlalchemy import insert

from projections.schema import create_all, gather_statistics
from projections.scoped import _existing_periods
from projections.tables import period_xp
from tests.conftest import Database

ANN, BEA, CAL = (
    UUID("16c4bb378ae258828d3300ed1da366de"),
    UUID("b12103bdb387579f8708f16627c738b1"),
    UUID("e9b437f4d4d756799d909120971cdb62"),
)
STORED = {  # the stored rows of a property test's case that SQLite 3.40.1 partly missed
    (ANN, "all", date(1970, 1, 1)): "*:54 adaptability:15 communication:25 "
    "customer_service:15 time_management:14",
    (ANN, "month", date(2023, 12, 1)): "*:40 adaptability:15 communication:25 customer_service:15",
    (ANN, "month", date(2024, 1, 1)): "*:14 time_management:14",
    (ANN, "week", date(2023, 12, 25)): "*:40 adaptability:15 communication:25 customer_service:15",
    (ANN, "week", date(2024, 1, 1)): "*:14 time_management:14",
    (BEA, "all", date(1970, 1, 1)): "*:116 adaptability:76 communication:40 "
    "customer_service:40 leadership:40 teamwork:76",
    (BEA, "month", date(2023, 12, 1)): "*:40 communication:40 customer_service:40 leadership:40",
    (BEA, "month", date(2024, 1, 1)): "*:76 adaptability:76 teamwork:76",
    (BEA, "week", date(2023, 12, 25)): "*:40 communication:40 customer_service:40 leadership:40",
    (BEA, "week", date(2024, 1, 8)): "*:76 adaptability:76 teamwork:76",
    (CAL, "all", date(1970, 1, 1)): "*:50 communication:50 problem_solving:30 teamwork:50",
    (CAL, "month", date(2023, 12, 1)): "*:30 communication:30 problem_solving:30 teamwork:30",
    (CAL, "month", date(2024, 1, 1)): "*:20 communication:20 teamwork:20",
    (CAL, "week", date(2023, 12, 18)): "*:30 communication:30 problem_solving:30 teamwork:30",
    (CAL, "week", date(2024, 1, 1)): "*:20 communication:20 teamwork:20",
}
TOUCHED = [  # (window, start, agent): what the batch asked for
    ("all", date(1970, 1, 1), ANN),
    ("all", date(1970, 1, 1), CAL),
    ("month", date(2024, 1, 1), ANN),
    ("month", date(2024, 1, 1), CAL),
    ("week", date(2024, 1, 8), CAL),  # none stored
    ("week", date(2024, 1, 15), ANN),  # none stored
]


def _rows() -> list[dict[str, object]]:
    return [
        {"window": window, "period_start": start, "competency": c, "agent_id": agent, "xp": int(x)}
        for (agent, window, start), values in STORED.items()
        for c, x in (value.split(":") for value in values.split())
    ]


def test_every_stored_row_of_the_touched_periods_is_found_once_the_tables_are_measured(
    database: Database,
) -> None:
    engine = database.read_engine()
    try:
        create_all(engine)
        with engine.begin() as connection:
            connection.execute(insert(period_xp), _rows())
            gather_statistics(connection)  # as a rebuild leaves them
        with engine.connect() as connection:
            found = _existing_periods(connection, set(TOUCHED))
        wanted = {
            (row["window"], row["period_start"], row["competency"], row["agent_id"])
            for row in _rows()
            if (row["window"], row["period_start"], row["agent_id"]) in set(TOUCHED)
        }
        assert set(found) == wanted
        assert len(wanted) == 14
    finally:
        engine.dispose()
