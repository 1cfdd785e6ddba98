from __future__ import annotations

from uuid import UUID

import pytest

from domain.exceptions import Conflict, InvalidName
from domain.identity import team_id_for
from domain.organisation import Team

SUE = UUID(int=7)


def test_a_team_is_identified_by_its_name_whatever_the_spacing_and_case() -> None:
    team = Team.form(name="  Night   Shift ", formed_by="admin")
    assert team.name == "Night   Shift"
    assert team.id == team_id_for("night shift")
    assert team.supervisors == []


@pytest.mark.parametrize("name", ["", " ", "x" * 121, "Night\nShift"])
def test_a_team_needs_a_usable_name(name: str) -> None:
    with pytest.raises(InvalidName):
        Team.form(name=name, formed_by="admin")


def test_supervisors_are_assigned_once_and_unassigned_once() -> None:
    team = Team.form(name="Blue", formed_by="admin")
    team.assign_supervisor(user_id=SUE, assigned_by="admin")
    assert team.supervisors == [SUE]
    with pytest.raises(Conflict, match="already supervises"):
        team.assign_supervisor(user_id=SUE, assigned_by="admin")
    team.unassign_supervisor(user_id=SUE, unassigned_by="admin")
    assert team.supervisors == []
    with pytest.raises(Conflict, match="does not supervise"):
        team.unassign_supervisor(user_id=SUE, unassigned_by="admin")
    assert [type(e).__name__ for e in team.collect_events()] == [
        "TeamFormed",
        "SupervisorAssigned",
        "SupervisorUnassigned",
    ]
