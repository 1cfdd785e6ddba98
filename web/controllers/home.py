"""GET /: the agent's home (level, XP, radar, badges, streaks, recent activity), or a landing
page for people who are not agents (supervisors, auditors, admins)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Response, Template
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY
from sqlalchemy import Engine

from domain.accounts import Role
from domain.principals import Principal, may_read
from domain.rulebook import TIERS
from projections.asof import activity_as_of, explain_xp_as_of, profile_as_of
from projections.queries import (
    ActivityItem,
    AgentProfile,
    BadgeView,
    TeamSummary,
    XpExplanation,
    agent_activity,
    agent_profile,
    explain_xp,
    leaderboard,
    list_teams,
)
from web.as_of import AsOf, BadMoment, as_of_from_query, picker_max
from web.auth import send_to_sign_in, viewer
from web.radar import Radar, radar

RECENT_ACTIVITY = 15
LANDING_BOARD = 5


@dataclass(frozen=True)
class BadgeProgress:
    """A badge with what it takes to reach its next tier."""

    badge: BadgeView
    next_tier: str | None  # None once gold is earned

    @property
    def percent(self) -> int:
        threshold = self.badge.next_threshold
        if self.next_tier is None or not threshold:
            return 100
        return max(0, min(100, 100 * self.badge.progress // threshold))

    @property
    def to_go(self) -> int:
        threshold = self.badge.next_threshold
        return 0 if threshold is None else max(0, threshold - self.badge.progress)


@dataclass(frozen=True)
class ActivityLine:
    """One event of the agent's feed, with the XP it brought and the rule that decided it."""

    item: ActivityItem
    explanation: XpExplanation | None

    @property
    def points(self) -> int | None:
        """XP the event brought, None when it brought none (retracted, or not a recognition)."""
        if self.item.retracted or self.explanation is None:
            return None
        return self.explanation.points


@dataclass(frozen=True)
class AgentHome:
    profile: AgentProfile
    radar: Radar
    badges: list[BadgeProgress]
    activity: list[ActivityLine]

    @property
    def level_percent(self) -> int:
        span = self.profile.xp_for_next_level
        if not span:
            return 100
        return max(0, min(100, 100 * self.profile.xp_into_level // span))

    @property
    def xp_to_next_level(self) -> int | None:
        span = self.profile.xp_for_next_level
        return None if span is None else span - self.profile.xp_into_level

    @property
    def earned_badges(self) -> list[BadgeProgress]:
        return [b for b in self.badges if b.badge.tier is not None]

    @property
    def open_badges(self) -> list[BadgeProgress]:
        return [b for b in self.badges if b.badge.tier is None]


def next_tier(tier: str | None) -> str | None:
    """The tier after ``tier`` (bronze before any), None after the last."""
    if tier is None:
        return TIERS[0]
    index = TIERS.index(tier)
    return TIERS[index + 1] if index + 1 < len(TIERS) else None


def badge_order(progress: BadgeProgress) -> tuple[int, int, str]:
    """Highest tier first; among equals, closest to the next tier first."""
    badge = progress.badge
    rank = TIERS.index(badge.tier) + 1 if badge.tier in TIERS else 0
    return (-rank, -progress.percent, badge.name)


def agent_home(
    engine: Engine, agent_id: UUID, zone: ZoneInfo, as_of: AsOf | None = None
) -> AgentHome | None:
    """Everything the agent's home shows (as it stood at ``as_of``, when given); None when
    the agent is not (yet) in the read model."""
    if as_of is None:
        today = datetime.now(zone).date()
        profile = agent_profile(engine, agent_id, today=today, timezone=zone)
        explained = explain_xp(engine, agent_id) if profile else []
        feed = agent_activity(engine, agent_id, limit=RECENT_ACTIVITY) if profile else []
    else:
        moment = as_of.moment
        profile = profile_as_of(engine, agent_id, moment, timezone=zone)
        explained = explain_xp_as_of(engine, agent_id, moment, timezone=zone) if profile else []
        feed = activity_as_of(engine, agent_id, moment, limit=RECENT_ACTIVITY) if profile else []
    if profile is None:
        return None
    explanations = {e.recording_id: e for e in explained}
    badges = sorted(
        (BadgeProgress(badge=b, next_tier=next_tier(b.tier)) for b in profile.badges),
        key=badge_order,
    )
    return AgentHome(
        profile=profile,
        radar=radar(profile.xp_by_competency),
        badges=badges,
        activity=[
            ActivityLine(
                item=item,
                explanation=explanations.get(item.recording_id) if item.recording_id else None,
            )
            for item in feed
        ],
    )


def led_teams(engine: Engine, principal: Principal) -> list[TeamSummary]:
    if not principal.led_team_ids:
        return []
    return [t for t in list_teams(engine) if t.team_id in principal.led_team_ids]


class HomeController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", name="home", sync_to_thread=True)
    def home(
        self,
        request: Request[Any, Any, Any],
        read_engine: NamedDependency[Engine],
        settings_zone: NamedDependency[ZoneInfo],
    ) -> Template | Response[Any]:
        principal = viewer(request)
        if principal is None:
            return send_to_sign_in(request)
        context: dict[str, Any] = {"principal": principal, "zone": settings_zone}
        if principal.agent_id is not None:
            context["as_of_max"] = picker_max(settings_zone)
            try:
                as_of = as_of_from_query(
                    read_engine, request.query_params.get("as_of"), settings_zone
                )
            except BadMoment as error:
                context["as_of_error"] = str(error)
                context["home"] = None
                return Template(
                    template_name="pages/home.html",
                    context=context,
                    status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                )
            context["as_of"] = as_of
            context["home"] = agent_home(read_engine, principal.agent_id, settings_zone, as_of)
            return Template(template_name="pages/home.html", context=context)
        today = datetime.now(settings_zone).date()
        context["teams"] = led_teams(read_engine, principal)
        context["board"] = (
            leaderboard(read_engine, window="week", today=today, limit=LANDING_BOARD)
            if may_read(principal)
            else None
        )
        context["is_admin"] = principal.has(Role.ADMIN)
        return Template(template_name="pages/landing.html", context=context)
