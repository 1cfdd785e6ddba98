"""Schemathesis against the running app, for every role: no server error, nothing the schema
does not say.

Each operation of ``/schema/openapi.json`` gets generated requests (valid ones, and invalid ones
to be refused), sent through Litestar's test client as each role: anonymous, an agent, a
supervisor, an auditor, an admin, a read token and a record token. Every response must be a
non-5xx status the schema declares for that operation, with the declared content type and a
body that matches the declared schema. Path ids and body agents are sometimes replaced by real
ones, so the successful answers are exercised too, not only the 404s.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from domain.competencies import ALL_COMPETENCIES
from tests.e2e.api_world import Caller, World, serve_world

COMPETENCIES = [c.value for c in ALL_COMPETENCIES]
MAX_EXAMPLES = int(os.environ.get("CALLCRAFT_FUZZ_EXAMPLES", "15"))
FUZZED_ROLES = ("anonymous", "ada", "sam", "audrey", "root", "read_token", "record_token")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
NEVER_WRITE = frozenset({"anonymous", "audrey", "read_token"})
BASE_URL = "http://testserver.local"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from serve_world("sqlite", tmp_path_factory.mktemp("api-fuzz"))


@pytest.fixture(scope="module")
def schema(world: World) -> Any:
    document = world.main.get("/schema/openapi.json").json()
    return schemathesis.openapi.from_dict(document)


def operations(schema: Any) -> list[Any]:
    found = [result.ok() for result in schema.get_all_operations()]
    assert found, "the schema lists no operations"
    return found


def send(caller: Caller, case: Case) -> httpx.Response:
    """Send a generated case through the role's Litestar test client."""
    kwargs = case.as_transport_kwargs(base_url=BASE_URL)
    headers = {**caller.headers_for(None), **(kwargs.get("headers") or {})}
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        body["content"] = kwargs["data"]
    return caller.client.request(
        kwargs["method"],
        kwargs["url"],
        params=kwargs.get("params"),
        headers=headers,
        **body,
    )


def with_real_ids(world: World, case: Case, choose: Any) -> Case:
    """Swap generated ids for ids that exist (and a sound moment and competencies), now and then,
    to reach the successful paths too."""
    known = [world.ada, world.ben, world.cy, world.dee]
    for name in ("agent_id",):
        if case.path_parameters and name in case.path_parameters and choose(st.booleans()):
            case.path_parameters[name] = str(choose(st.sampled_from(known)))
    if isinstance(case.body, dict):
        for name in ("agent", "to"):
            if name in case.body and choose(st.booleans()):
                case.body[name] = str(choose(st.sampled_from(known)))
        if "occurred_at" in case.body and choose(st.booleans()):
            case.body["occurred_at"] = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        if "competencies" in case.body and choose(st.booleans()):
            case.body["competencies"] = choose(
                st.lists(st.sampled_from(COMPETENCIES), min_size=1, max_size=3, unique=True)
            )
    return case


def fuzz(world: World, callers: list[Caller], operation: Any) -> None:
    """One generated case at a time, sent as every role; those who never write change nothing."""
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case = with_real_ids(world, data.draw(strategy), data.draw)
        for caller in callers:
            before = world.log_position()
            response = send(caller, case)
            case.validate_response(response, checks=CHECKS)
            if caller.name in NEVER_WRITE:
                assert world.log_position() == before, f"{caller.name} changed the log"

    run()


def test_no_generated_request_breaks_the_api_or_its_schema(world: World, schema: Any) -> None:
    callers = [world.caller(role) for role in FUZZED_ROLES]
    for operation in operations(schema):
        try:
            fuzz(world, callers, operation)
        except Exception as error:
            error.add_note(f"operation {operation.label}")
            raise
