"""`callcraft serve` as a real process: SQLite in a temporary place, real HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from api.bootstrap import build_application
from api.settings import load_settings
from tests.child_processes import ends_with_parent

ROOT = Path(__file__).resolve().parents[2]
CALLCRAFT = ROOT / ".venv" / "bin" / "callcraft"
STARTUP_LIMIT_SECONDS = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def read_token(env: dict[str, str]) -> dict[str, str]:
    """A read-scoped API token, issued straight into the store (the API needs read rights)."""
    app = build_application(load_settings(env))
    try:
        _token_id, secret = app.issue_token(name="serve test", scopes=["read"], issued_by="test")
    finally:
        app.close()
    return {"Authorization": f"Bearer {secret}"}


def test_serve_answers_over_http_with_the_projector_running_inside(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCRAFT_")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'var' / 'callcraft.db'}"
    seeded = subprocess.run(
        [str(CALLCRAFT), "demo", "--agents", "8", "--days", "14"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=STARTUP_LIMIT_SECONDS,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stderr
    token = read_token(env)
    port = free_port()
    server = subprocess.Popen(
        [str(CALLCRAFT), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ends_with_parent(),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
        health: dict[str, Any] = {}
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = get_json(f"{base}/healthz")
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
                continue
            if health["projector_position"] == health["log_position"]:
                break
            time.sleep(0.2)
        assert server.poll() is None, "the server exited early"
        assert health.get("status") == "ok", health
        assert health["projector_running"] is True
        assert health["projector_position"] == health["log_position"] > 0

        with pytest.raises(urllib.error.HTTPError) as anonymous:
            get_json(f"{base}/api/v1/leaderboards")
        assert anonymous.value.code == 401

        board = get_json(f"{base}/api/v1/leaderboards?window=all&limit=5", token)
        assert board["total"] == 7  # eight agents, one departed
        assert len(board["rows"]) == 5
        assert board["rows"][0]["rank"] == 1

        with pytest.raises(urllib.error.HTTPError) as refused:
            get_json(f"{base}/api/v1/leaderboards?window=year", token)
        assert refused.value.code == 400
        assert json.loads(refused.value.read())["field"] == "window"
    finally:
        server.terminate()
        try:
            _out, errors = server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            _out, errors = server.communicate()
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the parent sees it.
    assert server.returncode in (0, -signal.SIGTERM), errors
    assert "Application shutdown complete" in errors
