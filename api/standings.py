"""``callcraft leaderboard`` and ``callcraft profile``: the standings as readable tables, now
or as of a past moment (``--as-of``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any
from uuid import UUID

from sqlalchemy import Engine

from domain.competencies import ALL_COMPETENCIES
from projections.asof import (
    AsOfError,
    Moment,
    leaderboard_as_of,
    moment_at,
    parse_as_of,
    profile_as_of,
)
from projections.queries import (
    AgentProfile,
    LeaderboardPage,
    agent_id_by_handle,
    agent_profile,
    leaderboard,
    list_teams,
)


class StandingsError(ValueError):
    """A question the standings cannot answer (an unknown team or agent, a bad moment)."""


def resolve_moment(engine: Engine, text: str | None, zone: tzinfo) -> Moment | None:
    """``--as-of`` text (ISO 8601; without an offset, in the organisation's zone)."""
    if text is None:
        return None
    try:
        return moment_at(engine, parse_as_of(text, zone), zone, now=datetime.now(UTC))
    except AsOfError as error:
        raise StandingsError(str(error)) from None


def team_id_named(engine: Engine, team: str) -> UUID:
    """A team by its id or its name (case-insensitive)."""
    for summary in list_teams(engine):
        if str(summary.team_id) == team.strip() or summary.name.casefold() == team.casefold():
            return summary.team_id
    raise StandingsError(f"no team called {team!r}")


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Rows under a header, columns padded; numbers right-aligned."""
    cells = [[str(c) for c in header], *([str(c) for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = [
        bool(rows) and all(isinstance(row[i], int) for row in rows) for i in range(len(header))
    ]
    lines = []
    for row in cells:
        padded = [
            cell.rjust(width) if numeric[i] else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(padded).rstrip())
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _when(moment: Moment | None, zone: tzinfo) -> str:
    if moment is None:
        return "now"
    local = moment.at.astimezone(zone)
    return f"as of {local.day} {local:%B %Y, %H:%M} ({local:%Z}) — later recordings excluded"


def leaderboard_text(
    engine: Engine,
    zone: tzinfo,
    *,
    scope: str,
    window: str,
    team: str | None,
    competency: str | None,
    limit: int,
    as_of: str | None,
) -> str:
    moment = resolve_moment(engine, as_of, zone)
    team_id = team_id_named(engine, team) if team is not None else None
    query: dict[str, Any] = {
        "scope": scope,
        "window": window,
        "team_id": team_id,
        "competency": competency,
        "limit": limit,
    }
    page: LeaderboardPage
    if moment is None:
        page = leaderboard(engine, today=datetime.now(zone).date(), **query)
    else:
        page = leaderboard_as_of(engine, moment, **query)
    what = scope if scope != "competency" else f"competency {competency}"
    title = f"Leaderboard: {what}, {window} (from {page.window_start}), {_when(moment, zone)}"
    rows = [(row.rank, row.name, row.handle, row.team_name, row.xp, row.level) for row in page.rows]
    body = table(("rank", "name", "handle", "team", "xp", "level"), rows)
    return f"{title}\n{body}\n{len(page.rows)} of {page.total} agents"


def profile_text(engine: Engine, zone: tzinfo, handle: str, as_of: str | None) -> str:
    moment = resolve_moment(engine, as_of, zone)
    agent_id = agent_id_by_handle(engine, handle)
    if agent_id is None:
        raise StandingsError(f"no agent with the handle {handle!r}")
    found: AgentProfile | None
    if moment is None:
        found = agent_profile(engine, agent_id, today=datetime.now(zone).date(), timezone=zone)
    else:
        found = profile_as_of(engine, agent_id, moment, timezone=zone)
    if found is None:
        raise StandingsError(f"{handle!r} was not enrolled yet {_when(moment, zone)}")
    next_level = (
        "top level"
        if found.xp_for_next_level is None
        else f"{found.xp_into_level}/{found.xp_for_next_level} XP into the level"
    )
    lines = [
        f"{found.name} ({found.handle}) · {found.team_name} · {_when(moment, zone)}",
        f"level {found.level} · {found.xp_total} XP · {next_level}",
        f"streak {found.current_streak} (best {found.best_streak})"
        + (" · departed" if found.departed_at else ""),
        "",
        table(
            ("competency", "xp"),
            [(c.label, found.xp_by_competency[c.value]) for c in ALL_COMPETENCIES],
        ),
        "",
        table(
            ("badge", "tier", "progress", "next at"),
            [
                (
                    b.name,
                    b.tier or "-",
                    b.progress,
                    "-" if b.next_threshold is None else b.next_threshold,
                )
                for b in found.badges
            ],
        ),
    ]
    return "\n".join(lines)
