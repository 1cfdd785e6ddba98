"""Rulebook publications: each published version is an aggregate whose id is its version,
so two admins cannot publish the same version number."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.identity import rulebook_id_for


class RulebookPublication(Aggregate):
    class RulebookPublished(Aggregate.Created):
        version: int
        effective_from: datetime
        rules: dict[str, Any]
        published_by: str

    @staticmethod
    def create_id(version: int) -> UUID:
        return rulebook_id_for(version)

    @event(RulebookPublished)
    def __init__(
        self, version: int, effective_from: datetime, rules: dict[str, Any], published_by: str
    ) -> None:
        self.version_number = version
        self.effective_from = effective_from
        self.rules = copy.deepcopy(rules)  # never share state with the event
        self.published_by = published_by
