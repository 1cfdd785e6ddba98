"""Where the templates and static files live, and the Jinja environment the pages render with.

``api.app`` mounts ``STATIC_DIR`` at ``/static`` and passes ``template_config()`` to Litestar
(or builds its own from ``TEMPLATE_DIR`` and calls ``add_filters`` on the environment).
Autoescaping is on for every template: whatever a user typed is escaped where it appears.
"""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from domain.competencies import Competency

WEB_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"


def number(value: int | float) -> str:
    """A count with thousands separated: 12345 → "12,345"."""
    return f"{value:,}"


def signed(value: int) -> str:
    """Points with their sign: 5 → "+5", -3 → "−3" (a true minus), 0 → "0"."""
    if value > 0:
        return f"+{value:,}"
    if value < 0:
        return f"\N{MINUS SIGN}{-value:,}"
    return "0"


def percent(part: int | float, whole: int | float | None) -> int:
    """How far ``part`` is towards ``whole``, as a whole percentage from 0 to 100."""
    if not whole or whole <= 0:
        return 100
    return max(0, min(100, int(100 * part / whole)))


def competency_label(value: str) -> str:
    """ "problem_solving" → "Problem solving"; anything unknown is shown tidied up."""
    try:
        return Competency(value).label
    except ValueError:
        return value.replace("_", " ").capitalize()


def humanize(value: str) -> str:
    """A key such as "tough_call_handled" → "Tough call handled"."""
    return value.replace("_", " ").replace("-", " ").strip().capitalize()


def kind_label(value: str) -> str:
    """An event kind such as "ToughCallHandledWithGrace" → "Tough call handled with grace"."""
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", value).split()
    return " ".join(words).capitalize()


def local_time(value: datetime | None, zone: tzinfo | None = None) -> str:
    """A moment in the organisation's time zone: "Mon 23 Nov 2026, 14:05"."""
    if value is None:
        return ""
    if zone is not None:
        value = value.astimezone(zone)
    return f"{value:%a} {value.day} {value:%b %Y, %H:%M}"


def local_date(value: date | datetime | None, zone: tzinfo | None = None) -> str:
    """A day: "Mon 23 Nov 2026" (a moment is first moved into ``zone``)."""
    if value is None:
        return ""
    if isinstance(value, datetime) and zone is not None:
        value = value.astimezone(zone)
    return f"{value:%a} {value.day} {value:%b %Y}"


def iso(value: date | datetime | None) -> str:
    """The machine-readable form for ``<time datetime=…>``."""
    return "" if value is None else value.isoformat()


FILTERS = {
    "number": number,
    "signed": signed,
    "percent": percent,
    "competency_label": competency_label,
    "humanize": humanize,
    "kind_label": kind_label,
    "local_time": local_time,
    "local_date": local_date,
    "iso": iso,
}


def add_filters(environment: Environment) -> Environment:
    """Register the pages' filters on ``environment``."""
    environment.filters.update(FILTERS)
    return environment


def make_environment(directory: Path = TEMPLATE_DIR) -> Environment:
    """The Jinja environment for the pages: autoescaped, with our filters."""
    environment = Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    return add_filters(environment)


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """The template config ``api.app`` hands to Litestar."""
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(make_environment()))
