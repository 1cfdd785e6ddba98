"""docker-compose.yml, the Dockerfile and the README promise commands and settings: they exist.

There is no Docker engine here, so the compose file is checked as data: every `callcraft …`
command it runs must parse with our real CLI, every variable it sets must be a documented
setting with a valid value, and the README must document every setting.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from api.settings import SETTINGS_DOC, load_settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
AGREED_COMMANDS = ("serve", "project", "demo", "import", "export", "rebuild", "settings")
DOCUMENTED = {name for name, _default, _meaning in SETTINGS_DOC}


def _words(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(w) for w in command]


def _callcraft_services() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in COMPOSE["services"].items()
        if _words(service.get("command", []))[:1] == ["callcraft"]
    }


def _environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {str(k): str(v) for k, v in environment.items()}


def _cli() -> click.Group:
    from api.cli import main  # imported here: the CLI is its own module, built alongside

    assert isinstance(main, click.Group), "api.cli.main should be the click group `callcraft`"
    return main


def _parse(words: list[str]) -> None:
    """Parse ``callcraft SUBCOMMAND …`` with the real CLI without running it."""
    main = _cli()
    parent = click.Context(main, info_name="callcraft")
    assert words, "a bare `callcraft` names no command"
    command = main.get_command(parent, words[0])
    assert command is not None, f"`callcraft {words[0]}` is not a command of the CLI"
    try:
        command.make_context(words[0], list(words[1:]), parent=parent)
    except click.UsageError as error:
        pytest.fail(f"`callcraft {shlex.join(words)}` does not parse: {error.format_message()}")


def test_the_scaled_out_shape_has_postgres_a_web_app_and_a_separate_projector() -> None:
    services = COMPOSE["services"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(_words(services["postgres"]["healthcheck"]["test"]))
    assert _words(services["web"]["command"])[:2] == ["callcraft", "serve"]
    assert _words(services["projector"]["command"])[:2] == ["callcraft", "project"]
    for name in ("web", "projector"):
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
        environment = _environment(services[name])
        assert environment["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert environment["DATABASE_URL"].endswith("@postgres:5432/callcraft")
    # The worker projects; the web processes must not compete with it.
    assert load_settings(_environment(services["web"])).run_projector is False


@pytest.mark.parametrize("service", sorted(_callcraft_services()))
def test_every_command_the_compose_file_runs_is_a_real_command_with_real_options(
    service: str,
) -> None:
    _parse(_words(_callcraft_services()[service]["command"])[1:])


@pytest.mark.parametrize("service", sorted(_callcraft_services()))
def test_every_variable_the_compose_file_sets_is_a_documented_setting_with_a_valid_value(
    service: str,
) -> None:
    environment = _environment(_callcraft_services()[service])
    assert set(environment) <= DOCUMENTED, set(environment) - DOCUMENTED
    load_settings(environment)  # raises SettingsError, naming the variable, if one is bad


def test_the_image_installs_the_same_pins_as_make_venv() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "requirements.lock" in dockerfile
    assert all(
        service.get("build") == "." or service.get("image") == "callcraft:local"
        for service in _callcraft_services().values()
    )


def test_the_cli_has_every_agreed_command() -> None:
    main = _cli()
    parent = click.Context(main, info_name="callcraft")
    missing = [name for name in AGREED_COMMANDS if main.get_command(parent, name) is None]
    assert not missing, f"the CLI lacks {missing}"


def test_every_callcraft_command_the_readme_shows_is_a_real_command() -> None:
    main = _cli()
    parent = click.Context(main, info_name="callcraft")
    code = "\n".join(re.findall(r"```[a-z]*\n(.*?)```", README, flags=re.DOTALL))
    named = set(re.findall(r"(?:^|[\s$])callcraft ([a-z][a-z-]*)", code, flags=re.MULTILINE))
    assert named, "the README shows no callcraft command"
    unknown = sorted(name for name in named if main.get_command(parent, name) is None)
    assert not unknown, f"the README shows commands the CLI lacks: {unknown}"


def test_the_readme_settings_table_lists_every_setting_with_its_default() -> None:
    rows = {
        match.group(1): match.group(2)
        for match in re.finditer(r"^\|\s*`([A-Z_]+)`\s*\|\s*`?([^`|]*?)`?\s*\|", README, re.M)
    }
    for name, default, _meaning in SETTINGS_DOC:
        assert name in rows, f"the README's settings table lacks {name}"
        assert rows[name] == default, f"the README gives {name} the default {rows[name]!r}"
    assert set(rows) <= DOCUMENTED | {"CI", "HYPOTHESIS_PROFILE", "CALLCRAFT_TEST_POSTGRES_URL"}
