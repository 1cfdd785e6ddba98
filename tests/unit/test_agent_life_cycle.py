from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from domain.agents import Agent
from domain.exceptions import AgentDeparted, InvalidInput, InvalidName
from domain.identity import agent_id_for

BLUE = UUID(int=1)
GREEN = UUID(int=2)
ENROLLED = datetime(2025, 1, 6, 9, tzinfo=UTC)


def ann() -> Agent:
    return Agent.enrol(
        handle="Ann.Lee", name="Ann Lee", team_id=BLUE, enrolled_at=ENROLLED, enrolled_by="admin"
    )


def test_an_enrolled_agent_has_its_handle_as_identity_and_is_present() -> None:
    agent = ann()
    assert agent.id == agent_id_for("ann.lee")
    assert agent.handle == "ann.lee"
    assert (agent.name, agent.team_id, agent.enrolled_at) == ("Ann Lee", BLUE, ENROLLED)
    assert not agent.has_departed
    assert [type(e) for e in agent.collect_events()] == [Agent.AgentEnrolled]


@pytest.mark.parametrize("handle", ["", "ann lee", "a" * 65, "ann\x00"])
def test_an_unusable_handle_is_refused(handle: str) -> None:
    with pytest.raises(InvalidName) as refused:
        Agent.enrol(
            handle=handle, name="Ann", team_id=BLUE, enrolled_at=ENROLLED, enrolled_by="admin"
        )
    assert refused.value.field == "handle"


@pytest.mark.parametrize("name", ["", "   ", "x" * 121, "Ann\nLee"])
def test_an_unusable_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidName):
        Agent.enrol(
            handle="ann", name=name, team_id=BLUE, enrolled_at=ENROLLED, enrolled_by="admin"
        )


def test_a_transfer_moves_the_agent_to_the_new_team() -> None:
    agent = ann()
    agent.transfer(team_id=GREEN, transferred_by="admin")
    assert agent.team_id == GREEN
    assert isinstance(agent.collect_events()[-1], Agent.AgentTransferred)


def test_a_transfer_into_the_same_team_is_refused() -> None:
    agent = ann()
    with pytest.raises(InvalidInput, match="already in that team"):
        agent.transfer(team_id=BLUE, transferred_by="admin")
    assert agent.version == 1


def test_a_departed_agent_cannot_be_transferred_or_depart_again() -> None:
    agent = ann()
    agent.depart(departed_at=ENROLLED + timedelta(days=30), recorded_by="admin")
    assert agent.has_departed
    with pytest.raises(AgentDeparted):
        agent.transfer(team_id=GREEN, transferred_by="admin")
    with pytest.raises(AgentDeparted):
        agent.depart(departed_at=ENROLLED + timedelta(days=31), recorded_by="admin")
    with pytest.raises(AgentDeparted) as refused:
        agent.ensure_present()
    assert refused.value.field == "agent"
    assert agent.version == 2


def test_an_agent_cannot_depart_before_enrolling() -> None:
    agent = ann()
    with pytest.raises(InvalidInput, match="before enrolling"):
        agent.depart(departed_at=ENROLLED - timedelta(seconds=1), recorded_by="admin")
    assert not agent.has_departed
