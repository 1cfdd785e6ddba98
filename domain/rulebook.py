"""The rulebook: XP, multipliers, caps, the level curve, streak days and badges — as data.

A rulebook is a plain document (TOML on disk, a dict of str/int/list/dict inside the
``RulebookPublished`` event). :func:`parse_rulebook` validates every field and raises
:class:`~domain.exceptions.InvalidRulebook` naming the offending field (``xp.FeedbackGiven``,
``badges[3].thresholds.silver``, ...); :func:`rulebook_to_data` turns a rulebook back into that
plain data so that ``parse_rulebook(rulebook_to_data(rb)) == rb``.

A :class:`RulebookHistory` holds every publication with its ``effective_from``: the XP of a
recognition comes from the rulebook in force when it occurred, so what was earned under an
older rulebook stays earned.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any, ClassVar, Literal, TypeVar, get_args

from domain.competencies import ALL_COMPETENCIES, Competency
from domain.exceptions import InvalidRulebook
from domain.facts import FeedbackKind, RecognitionKind
from domain.levels import CURVE_KINDS, CurveKind, LevelCurve

K = TypeVar("K")
V = TypeVar("V")

RATINGS: tuple[int, ...] = (1, 2, 3, 4, 5)
MAX_SCORE = 100
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Tier = Literal["bronze", "silver", "gold"]
TIERS: tuple[Tier, ...] = get_args(Tier)
BadgeFamily = Literal["life_skill", "mastery"]
BADGE_FAMILIES: tuple[str, ...] = get_args(BadgeFamily)

_BADGE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class FrozenMap(Mapping[K, V]):
    """An immutable, hashable mapping (so rulebooks and scores stay frozen and hashable)."""

    __slots__ = ("_data",)

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._data: dict[K, V] = dict(items)

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


# --------------------------------------------------------------------------- badge definitions


@dataclass(frozen=True, slots=True)
class CountMetric:
    """Counts recognitions received that match every given filter (XP does not matter).

    Empty ``kinds``/``competencies`` match anything; otherwise any one of them must match.
    ``feedback_kind``, ``min_rating`` and ``min_score`` only match recognitions that carry a
    feedback kind, a rating or a score respectively.
    """

    type: ClassVar[str] = "count"
    kinds: tuple[RecognitionKind, ...] = ()
    competencies: tuple[Competency, ...] = ()
    feedback_kind: FeedbackKind | None = None
    min_rating: int | None = None
    min_score: int | None = None


@dataclass(frozen=True, slots=True)
class ComebackMetric:
    """The "Failure is a teacher" metric: coaching feedback (kind coaching, or rating at most
    ``max_rating``) followed within ``within_days`` by praise (not coaching, rating at least
    ``min_rating``). Each praise closes at most one comeback."""

    type: ClassVar[str] = "comeback"
    within_days: int = 14
    max_rating: int = 2
    min_rating: int = 4


@dataclass(frozen=True, slots=True)
class KudosMetric:
    """The "Gratitude" metric: kudos given plus kudos received."""

    type: ClassVar[str] = "kudos"


@dataclass(frozen=True, slots=True)
class CompetencyXpMetric:
    """Mastery: the agent's XP in one competency."""

    type: ClassVar[str] = "competency_xp"
    competency: Competency


BadgeMetric = CountMetric | ComebackMetric | KudosMetric | CompetencyXpMetric
METRIC_TYPES: tuple[str, ...] = ("count", "comeback", "kudos", "competency_xp")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Metric values for the bronze, silver and gold tiers (strictly increasing)."""

    bronze: int
    silver: int
    gold: int

    def items(self) -> tuple[tuple[Tier, int], ...]:
        return (("bronze", self.bronze), ("silver", self.silver), ("gold", self.gold))


@dataclass(frozen=True, slots=True)
class BadgeDefinition:
    key: str
    name: str
    description: str
    family: BadgeFamily
    metric: BadgeMetric
    thresholds: Thresholds


# --------------------------------------------------------------------------------- the rulebook


@dataclass(frozen=True, slots=True)
class Rulebook:
    """One version of the rules.

    ``xp``: base XP per recognition kind. ``feedback_multiplier_percent``: FeedbackGiven XP is
    scaled by the percentage for its rating (1..5), with integer arithmetic
    (``base * pct // 100``). ``daily_caps``: how many recognitions of a kind earn XP per agent
    per local day (kinds absent are uncapped). ``kudos_cap_per_giver_per_day``: how many kudos
    one agent may give a day (enforced when kudos are recorded). ``streak_working_days``: ISO
    weekday numbers that count for streaks.
    """

    version: int
    name: str
    xp: FrozenMap[RecognitionKind, int]
    feedback_multiplier_percent: FrozenMap[int, int]
    daily_caps: FrozenMap[RecognitionKind, int]
    kudos_cap_per_giver_per_day: int
    level_curve: LevelCurve
    streak_working_days: tuple[int, ...]
    badges: tuple[BadgeDefinition, ...] = field(default=())

    def xp_for(self, kind: RecognitionKind) -> int:
        return self.xp[kind]

    def multiplier_percent(self, rating: int | None) -> int:
        """The percentage applied to feedback of ``rating``; 100 when there is no rating."""
        if rating is None:
            return 100
        try:
            return self.feedback_multiplier_percent[rating]
        except KeyError:
            raise ValueError(f"a rating is between 1 and 5, got {rating}") from None

    def daily_cap(self, kind: RecognitionKind) -> int | None:
        return self.daily_caps.get(kind)

    def badge(self, key: str) -> BadgeDefinition:
        for definition in self.badges:
            if definition.key == key:
                return definition
        raise KeyError(key)


# ------------------------------------------------------------------------------------ parsing


# Upper bounds keep every figure far inside a 64-bit column, whatever an admin types.
MAX_XP = 10_000
MAX_PERCENT = 1_000
MAX_COUNT = 1_000
MAX_THRESHOLD = 1_000_000_000


def _fail(path: str, problem: str) -> InvalidRulebook:
    return InvalidRulebook(f"rulebook field {path!r}: {problem}", field=path)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _table(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(path or "<root>", f"must be a table, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise _fail(path or "<root>", f"keys must be strings, got {key!r}")
    return value


def _keys(
    table: Mapping[str, Any], path: str, *, required: Iterable[str], optional: Iterable[str] = ()
) -> None:
    required = tuple(required)
    allowed = set(required) | set(optional)
    for key in table:
        if key not in allowed:
            raise _fail(_join(path, key), f"unknown field; expected one of {sorted(allowed)}")
    for key in required:
        if key not in table:
            raise _fail(_join(path, key), "is missing")


def _int(value: Any, path: str, *, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(path, f"must be an integer, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise _fail(path, f"must be {bounds}, got {value}")
    return value


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"must be a non-empty string, got {value!r}")
    return value.strip()


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise _fail(path, f"must be a list, got {type(value).__name__}")
    return list(value)


def _kind(value: Any, path: str) -> RecognitionKind:
    try:
        return RecognitionKind(value)
    except ValueError:
        known = [k.value for k in RecognitionKind]
        raise _fail(path, f"unknown recognition kind {value!r}; expected one of {known}") from None


def _competency(value: Any, path: str) -> Competency:
    try:
        return Competency(value)
    except ValueError:
        known = [c.value for c in Competency]
        raise _fail(path, f"unknown competency {value!r}; expected one of {known}") from None


def _unique(values: list[Any], path: str) -> None:
    if len(set(values)) != len(values):
        raise _fail(path, "lists a value twice")


def _parse_xp(value: Any) -> FrozenMap[RecognitionKind, int]:
    table = _table(value, "xp")
    _keys(table, "xp", required=[k.value for k in RecognitionKind])
    return FrozenMap(
        (kind, _int(table[kind.value], f"xp.{kind.value}", minimum=0, maximum=MAX_XP))
        for kind in RecognitionKind
    )


def _parse_multipliers(value: Any) -> FrozenMap[int, int]:
    path = "feedback_rating_multiplier_percent"
    if not isinstance(value, Mapping):
        raise _fail(path, f"must be a table, got {type(value).__name__}")
    table = {str(k): v for k, v in value.items()}
    _keys(table, path, required=[str(r) for r in RATINGS])
    return FrozenMap(
        (r, _int(table[str(r)], f"{path}.{r}", minimum=0, maximum=MAX_PERCENT)) for r in RATINGS
    )


def _parse_caps(value: Any) -> FrozenMap[RecognitionKind, int]:
    table = _table(value, "daily_caps")
    _keys(table, "daily_caps", required=(), optional=[k.value for k in RecognitionKind])
    return FrozenMap(
        (kind, _int(table[kind.value], f"daily_caps.{kind.value}", minimum=1, maximum=MAX_COUNT))
        for kind in RecognitionKind
        if kind.value in table
    )


def _parse_kudos(value: Any) -> int:
    table = _table(value, "kudos")
    _keys(table, "kudos", required=["cap_per_giver_per_day"])
    return _int(
        table["cap_per_giver_per_day"], "kudos.cap_per_giver_per_day", minimum=1, maximum=MAX_COUNT
    )


def _parse_levels(value: Any) -> LevelCurve:
    table = _table(value, "levels")
    _keys(table, "levels", required=["curve", "step", "max_level"])
    curve = table["curve"]
    if curve not in CURVE_KINDS:
        raise _fail("levels.curve", f"must be one of {list(CURVE_KINDS)}, got {curve!r}")
    kind: CurveKind = "linear" if curve == "linear" else "triangular"
    return LevelCurve(
        kind=kind,
        step=_int(table["step"], "levels.step", minimum=1, maximum=1_000_000),
        max_level=_int(table["max_level"], "levels.max_level", minimum=1, maximum=1000),
    )


def _parse_streaks(value: Any) -> tuple[int, ...]:
    table = _table(value, "streaks")
    _keys(table, "streaks", required=["working_days"])
    path = "streaks.working_days"
    days = [
        _int(d, f"{path}[{i}]", minimum=1, maximum=7)
        for i, d in enumerate(_list(table["working_days"], path))
    ]
    if not days:
        raise _fail(path, "must name at least one ISO weekday (1 = Monday ... 7 = Sunday)")
    _unique(days, path)
    return tuple(sorted(days))


def _optional_rating(table: Mapping[str, Any], key: str, path: str) -> int | None:
    if key not in table:
        return None
    return _int(table[key], _join(path, key), minimum=1, maximum=5)


def _parse_metric(value: Any, path: str) -> BadgeMetric:
    table = _table(value, path)
    if "type" not in table:
        raise _fail(_join(path, "type"), "is missing")
    kind = table["type"]
    if kind == "count":
        _keys(
            table,
            path,
            required=["type"],
            optional=["kinds", "competencies", "feedback_kind", "min_rating", "min_score"],
        )
        kinds = [
            _kind(k, f"{path}.kinds[{i}]")
            for i, k in enumerate(_list(table.get("kinds", []), f"{path}.kinds"))
        ]
        _unique(kinds, f"{path}.kinds")
        competencies = [
            _competency(c, f"{path}.competencies[{i}]")
            for i, c in enumerate(_list(table.get("competencies", []), f"{path}.competencies"))
        ]
        _unique(competencies, f"{path}.competencies")
        feedback_kind: FeedbackKind | None = None
        if "feedback_kind" in table:
            try:
                feedback_kind = FeedbackKind(table["feedback_kind"])
            except ValueError:
                known = [k.value for k in FeedbackKind]
                raise _fail(
                    f"{path}.feedback_kind",
                    f"must be one of {known}, got {table['feedback_kind']!r}",
                ) from None
        min_score = None
        if "min_score" in table:
            min_score = _int(table["min_score"], f"{path}.min_score", minimum=0, maximum=MAX_SCORE)
        return CountMetric(
            kinds=tuple(k for k in RecognitionKind if k in kinds),
            competencies=tuple(c for c in ALL_COMPETENCIES if c in competencies),
            feedback_kind=feedback_kind,
            min_rating=_optional_rating(table, "min_rating", path),
            min_score=min_score,
        )
    if kind == "comeback":
        _keys(table, path, required=["type"], optional=["within_days", "max_rating", "min_rating"])
        metric = ComebackMetric(
            within_days=_int(
                table.get("within_days", 14), f"{path}.within_days", minimum=1, maximum=366
            ),
            max_rating=_int(table.get("max_rating", 2), f"{path}.max_rating", minimum=1, maximum=5),
            min_rating=_int(table.get("min_rating", 4), f"{path}.min_rating", minimum=1, maximum=5),
        )
        if metric.max_rating >= metric.min_rating:
            raise _fail(f"{path}.min_rating", "must be greater than max_rating")
        return metric
    if kind == "kudos":
        _keys(table, path, required=["type"])
        return KudosMetric()
    if kind == "competency_xp":
        _keys(table, path, required=["type", "competency"])
        return CompetencyXpMetric(_competency(table["competency"], f"{path}.competency"))
    raise _fail(_join(path, "type"), f"must be one of {list(METRIC_TYPES)}, got {kind!r}")


def _parse_thresholds(value: Any, path: str) -> Thresholds:
    table = _table(value, path)
    _keys(table, path, required=TIERS)
    bronze = _int(table["bronze"], f"{path}.bronze", minimum=1, maximum=MAX_THRESHOLD)
    silver = _int(table["silver"], f"{path}.silver", minimum=1, maximum=MAX_THRESHOLD)
    gold = _int(table["gold"], f"{path}.gold", minimum=1, maximum=MAX_THRESHOLD)
    if silver <= bronze:
        raise _fail(f"{path}.silver", f"must be greater than bronze ({bronze}), got {silver}")
    if gold <= silver:
        raise _fail(f"{path}.gold", f"must be greater than silver ({silver}), got {gold}")
    return Thresholds(bronze=bronze, silver=silver, gold=gold)


def _parse_badge(value: Any, path: str) -> BadgeDefinition:
    table = _table(value, path)
    _keys(table, path, required=["key", "name", "description", "family", "metric", "thresholds"])
    key = _str(table["key"], f"{path}.key")
    if not _BADGE_KEY.match(key):
        raise _fail(f"{path}.key", f"must be lower_snake_case (a-z, 0-9, _), got {key!r}")
    family = table["family"]
    if family not in BADGE_FAMILIES:
        raise _fail(f"{path}.family", f"must be one of {list(BADGE_FAMILIES)}, got {family!r}")
    return BadgeDefinition(
        key=key,
        name=_str(table["name"], f"{path}.name"),
        description=_str(table["description"], f"{path}.description"),
        family="mastery" if family == "mastery" else "life_skill",
        metric=_parse_metric(table["metric"], f"{path}.metric"),
        thresholds=_parse_thresholds(table["thresholds"], f"{path}.thresholds"),
    )


def _parse_badges(value: Any) -> tuple[BadgeDefinition, ...]:
    badges = tuple(_parse_badge(b, f"badges[{i}]") for i, b in enumerate(_list(value, "badges")))
    seen: set[str] = set()
    for i, badge in enumerate(badges):
        if badge.key in seen:
            raise _fail(f"badges[{i}].key", f"badge key {badge.key!r} is used twice")
        seen.add(badge.key)
    return badges


_TOP_LEVEL_REQUIRED = (
    "version",
    "name",
    "xp",
    "feedback_rating_multiplier_percent",
    "kudos",
    "levels",
    "streaks",
)
_TOP_LEVEL_OPTIONAL = ("daily_caps", "badges")


def parse_rulebook(data: Mapping[str, Any]) -> Rulebook:
    """Validate rulebook data (from TOML or from an event) into a :class:`Rulebook`.

    Unknown fields are refused (a typo must not silently fall back to a default).
    """
    table = _table(data, "")
    _keys(table, "", required=_TOP_LEVEL_REQUIRED, optional=_TOP_LEVEL_OPTIONAL)
    return Rulebook(
        version=_int(table["version"], "version", minimum=1, maximum=1_000_000),
        name=_str(table["name"], "name"),
        xp=_parse_xp(table["xp"]),
        feedback_multiplier_percent=_parse_multipliers(table["feedback_rating_multiplier_percent"]),
        daily_caps=_parse_caps(table.get("daily_caps", {})),
        kudos_cap_per_giver_per_day=_parse_kudos(table["kudos"]),
        level_curve=_parse_levels(table["levels"]),
        streak_working_days=_parse_streaks(table["streaks"]),
        badges=_parse_badges(table.get("badges", [])),
    )


def parse_rulebook_toml(text: str) -> Rulebook:
    """Parse a rulebook from TOML text (for uploads by an admin); no I/O."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidRulebook(f"rulebook is not valid TOML: {error}") from None
    return parse_rulebook(data)


# ---------------------------------------------------------------------------------- rendering


def _metric_to_data(metric: BadgeMetric) -> dict[str, Any]:
    data: dict[str, Any] = {"type": metric.type}
    if isinstance(metric, CountMetric):
        if metric.kinds:
            data["kinds"] = [k.value for k in metric.kinds]
        if metric.competencies:
            data["competencies"] = [c.value for c in metric.competencies]
        if metric.feedback_kind is not None:
            data["feedback_kind"] = metric.feedback_kind.value
        if metric.min_rating is not None:
            data["min_rating"] = metric.min_rating
        if metric.min_score is not None:
            data["min_score"] = metric.min_score
    elif isinstance(metric, ComebackMetric):
        data["within_days"] = metric.within_days
        data["max_rating"] = metric.max_rating
        data["min_rating"] = metric.min_rating
    elif isinstance(metric, CompetencyXpMetric):
        data["competency"] = metric.competency.value
    return data


def rulebook_to_data(rulebook: Rulebook) -> dict[str, Any]:
    """Plain, JSON-serialisable data (str keys; str/int/list/dict values) for an event."""
    return {
        "version": rulebook.version,
        "name": rulebook.name,
        "xp": {kind.value: points for kind, points in rulebook.xp.items()},
        "feedback_rating_multiplier_percent": {
            str(rating): pct for rating, pct in rulebook.feedback_multiplier_percent.items()
        },
        "daily_caps": {kind.value: cap for kind, cap in rulebook.daily_caps.items()},
        "kudos": {"cap_per_giver_per_day": rulebook.kudos_cap_per_giver_per_day},
        "levels": {
            "curve": rulebook.level_curve.kind,
            "step": rulebook.level_curve.step,
            "max_level": rulebook.level_curve.max_level,
        },
        "streaks": {"working_days": list(rulebook.streak_working_days)},
        "badges": [
            {
                "key": badge.key,
                "name": badge.name,
                "description": badge.description,
                "family": badge.family,
                "metric": _metric_to_data(badge.metric),
                "thresholds": dict(badge.thresholds.items()),
            }
            for badge in rulebook.badges
        ],
    }


@cache
def load_default_rulebook() -> Rulebook:
    """The rulebook shipped with the domain (``domain/rulebook.toml``)."""
    text = resources.files("domain").joinpath("rulebook.toml").read_text(encoding="utf-8")
    return parse_rulebook_toml(text)


# ---------------------------------------------------------------------------------- history


@dataclass(frozen=True, slots=True)
class Publication:
    effective_from: datetime
    rulebook: Rulebook


def _aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {moment!r}")


@dataclass(frozen=True, slots=True)
class RulebookHistory:
    """Every published rulebook with the moment it takes effect, in order of taking effect.

    Never empty; versions are unique. When two publications take effect at the same moment,
    the higher version wins.
    """

    publications: tuple[Publication, ...]

    def __post_init__(self) -> None:
        if not self.publications:
            raise ValueError("a rulebook history needs at least one publication")
        versions: set[int] = set()
        for publication in self.publications:
            _aware(publication.effective_from, "effective_from")
            if publication.rulebook.version in versions:
                raise _fail(
                    "version", f"version {publication.rulebook.version} is already published"
                )
            versions.add(publication.rulebook.version)
        ordered = tuple(
            sorted(self.publications, key=lambda p: (p.effective_from, p.rulebook.version))
        )
        object.__setattr__(self, "publications", ordered)

    @classmethod
    def of(cls, rulebook: Rulebook, effective_from: datetime = EPOCH) -> RulebookHistory:
        return cls((Publication(effective_from, rulebook),))

    @classmethod
    def default(cls) -> RulebookHistory:
        """Only the shipped default rulebook, in force since the epoch."""
        return cls.of(load_default_rulebook())

    def with_publication(self, effective_from: datetime, rulebook: Rulebook) -> RulebookHistory:
        return RulebookHistory((*self.publications, Publication(effective_from, rulebook)))

    def in_force_at(self, moment: datetime) -> Rulebook:
        """The rulebook with the latest ``effective_from`` at or before ``moment``
        (the earliest one for moments before any publication)."""
        _aware(moment, "moment")
        index = bisect_right(self.publications, moment, key=lambda p: p.effective_from)
        return self.publications[max(index - 1, 0)].rulebook

    @property
    def latest(self) -> Rulebook:
        """The rulebook with the highest version."""
        return max((p.rulebook for p in self.publications), key=lambda rb: rb.version)

    def __iter__(self) -> Iterator[Publication]:
        return iter(self.publications)

    def __len__(self) -> int:
        return len(self.publications)

    def __getitem__(self, index: int) -> Publication:
        return self.publications[index]
