"""The production image: nothing local or secret goes in, and it runs as an unprivileged user."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_the_image_runs_as_an_unprivileged_user():
    users = [arg for op, arg in _instructions() if op == "USER"]
    assert users and users[-1] not in {"root", "0", "0:0"}
    created = " ".join(arg for op, arg in _instructions() if op == "RUN")
    assert f"useradd --system --uid 10001 --gid modelship --home-dir /app --shell /usr/sbin/nologin {users[-1]}" in created
    assert f"chown {users[-1]}:{users[-1]} /data" in created  # MODELSHIP_DATA_DIR, the only place it writes


def test_no_secret_or_local_state_is_baked_in():
    instructions = _instructions()
    persisted = " ".join(arg for op, arg in instructions if op in {"ENV", "ARG", "LABEL"})
    assert "SECRET_KEY" not in persisted and "PASSWORD" not in persisted
    build = next(arg for op, arg in instructions if op == "RUN" and "collectstatic" in arg)
    # The key the build generates lives in a throw-away data dir, removed in the same layer.
    assert build.startswith("MODELSHIP_DATA_DIR=/tmp/build ") and build.endswith("&& rm -rf /tmp/build")
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".git", ".env", ".venv", "data/", "test-artifacts/", "*.sqlite3"} <= ignored


def test_compose_takes_its_secrets_from_the_environment():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["services"]["web"]["environment"]
    assert env["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"
    assert "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}" in env["DATABASE_URL"]
    assert env["MODELSHIP_DATA_DIR"] == "/data"
    assert "media:/data" in compose["services"]["web"]["volumes"]
