"""GET /: a plain HTML page with this week's and the all-time leaderboard (no JavaScript)."""

from __future__ import annotations

from html import escape

from litestar import MediaType, get
from litestar.di import NamedDependency

from api.routes.deps import today
from api.runtime import Runtime
from projections.queries import LeaderboardPage, leaderboard

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Callcraft</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; }}
table {{ border-collapse: collapse; margin-bottom: 2rem; }}
th, td {{ padding: .25rem .75rem; text-align: left; border-bottom: 1px solid #ddd; }}
td.n {{ text-align: right; }}
</style></head>
<body>
<h1>Callcraft</h1>
<p>Recognitions become XP, levels, badges and streaks. The JSON API lives under
<a href="/api/v1/leaderboards">/api/v1</a>; this page is a read-only preview.</p>
{boards}
</body></html>
"""


def _table(title: str, page: LeaderboardPage) -> str:
    rows = "\n".join(
        f'<tr><td class=n>{r.rank}</td><td><a href="/api/v1/agents/{r.agent_id}">'
        f"{escape(r.name)}</a></td><td>{escape(r.team_name)}</td>"
        f"<td class=n>{r.level}</td><td class=n>{r.xp}</td></tr>"
        for r in page.rows
    )
    return (
        f"<h2>{escape(title)}</h2>\n<table><thead><tr><th>#</th><th>Agent</th><th>Team</th>"
        f"<th>Level</th><th>XP</th></tr></thead>\n<tbody>\n{rows}\n</tbody></table>"
    )


@get("/", media_type=MediaType.HTML, sync_to_thread=True, include_in_schema=False)
def home(runtime: NamedDependency[Runtime]) -> str:
    day = today(runtime)
    week = leaderboard(runtime.read_engine, window="week", today=day, limit=10)
    ever = leaderboard(runtime.read_engine, window="all", today=day, limit=20)
    boards = _table(f"This week (from {week.window_start.isoformat()})", week) + _table(
        "All time", ever
    )
    return PAGE.format(boards=boards)
