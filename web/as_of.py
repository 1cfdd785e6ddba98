"""``?as_of=`` on the pages: a past moment typed into a ``datetime-local`` picker, read in the
organisation's time zone, and the banner that says the page shows the past."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from projections.asof import AsOfError, Moment, moment_at, parse_as_of


class BadMoment(ValueError):
    """An ``as_of`` the page cannot show (malformed, in the future, before the first event)."""


@dataclass(frozen=True)
class AsOf:
    """The moment a page is shown as of."""

    moment: Moment
    zone: ZoneInfo

    @property
    def local(self) -> datetime:
        return self.moment.at.astimezone(self.zone)

    @property
    def value(self) -> str:
        """The moment as the picker and the URL carry it (local time, no offset)."""
        local = self.local.replace(tzinfo=None)
        if local.microsecond:
            return local.isoformat()
        return local.isoformat(timespec="seconds" if local.second else "minutes")

    @property
    def label(self) -> str:
        """``1 March 2026, 17:00`` (the local time)."""
        local = self.local
        return f"{local.day} {local:%B %Y, %H:%M}"


def as_of_from_query(engine: Engine, raw: str | None, zone: ZoneInfo) -> AsOf | None:
    """The moment ``?as_of=`` names (None when absent or empty)."""
    if raw is None or not raw.strip():
        return None
    try:
        moment = moment_at(engine, parse_as_of(raw, zone), zone, now=datetime.now(UTC))
    except AsOfError as error:
        raise BadMoment(str(error)) from None
    return AsOf(moment=moment, zone=zone)


def picker_max(zone: ZoneInfo) -> str:
    """The latest moment the picker offers: now, in local time."""
    return datetime.now(zone).replace(tzinfo=None).isoformat(timespec="seconds")
