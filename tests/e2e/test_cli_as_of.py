# ruff: noqa: F811 - the imported fixtures are parameters by name
"""``callcraft leaderboard`` and ``callcraft profile``, now and ``--as-of`` a past moment."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from tests.e2e.test_cli_commands import (  # noqa: F401 - the fixtures are used by name
    Cli,
    cli,
    csv_file,
    demo_cli,
    demo_store,
    feedback_line,
)


def _xp_of(table: str, handle: str) -> int:
    for line in table.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if handle in cells:
            return int(cells[-2])
    raise AssertionError(f"{handle} is not on the board:\n{table}")


def test_the_leaderboard_as_of_a_moment_before_an_import_leaves_it_out(
    demo_cli: Cli, tmp_path: Path
) -> None:
    handle = demo_cli.handles()[0]
    before = datetime.now(UTC).isoformat()
    done = demo_cli("import", str(csv_file(tmp_path / "one.csv", [feedback_line(handle)])))
    assert done.returncode == 0, done.stderr
    live = demo_cli("leaderboard", "--limit", "50")
    then = demo_cli("leaderboard", "--limit", "50", "--as-of", before)
    assert live.returncode == 0, live.stderr
    assert then.returncode == 0, then.stderr
    assert "later recordings excluded" in then.stdout
    assert _xp_of(live.stdout, handle) > _xp_of(then.stdout, handle)
    profile = demo_cli("profile", handle, "--as-of", before)
    assert profile.returncode == 0, profile.stderr
    assert f"({handle})" in profile.stdout
    assert "Communication" in profile.stdout


def test_an_unusable_moment_or_handle_is_refused_with_a_message(demo_cli: Cli) -> None:
    for args, says in [
        (("leaderboard", "--as-of", "soon"), "ISO 8601"),
        (("leaderboard", "--as-of", "2000-01-01T00:00"), "before the first event"),
        (("leaderboard", "--as-of", "2999-01-01T00:00+00:00"), "future"),
        (("profile", "nobody"), "no agent with the handle 'nobody'"),
        (("leaderboard", "--scope", "team", "--team", "Nowhere"), "no team called 'Nowhere'"),
    ]:
        done = demo_cli(*args)
        assert done.returncode == 1, (args, done.stdout)
        assert says in done.stderr, args


def test_a_team_board_without_a_team_is_a_usage_error(demo_cli: Cli) -> None:
    done = demo_cli("leaderboard", "--scope", "team")
    assert done.returncode == 2
    assert "--team" in done.stderr
