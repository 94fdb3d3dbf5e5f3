"""Settings come from the environment; production settings pass Django's deploy checks."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(args, **env_overrides):
    dropped = {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "MODELSHIP_ENV", "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL",
               "DJANGO_ALLOW_ASYNC_UNSAFE"}  # the browser tests set it for their own process only
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def test_production_settings_pass_check_deploy(tmp_path):
    result = _manage(["check", "--deploy", "--fail-level", "WARNING"], MODELSHIP_ENV="production",
                     SECRET_KEY=secrets.token_urlsafe(60), ALLOWED_HOSTS="modelship.example.com",
                     MODELSHIP_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_requires_a_secret_key(tmp_path):
    result = _manage(["check"], MODELSHIP_ENV="production", MODELSHIP_DATA_DIR=str(tmp_path))
    assert result.returncode == 1
    assert "SECRET_KEY must be set when MODELSHIP_ENV=production" in result.stderr


def test_embedded_default_generates_and_keeps_a_secret_key(tmp_path):
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "MODELSHIP_ENV"}}
    env.update(MODELSHIP_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="modelship.settings")
    first = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    second = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=True).stdout.strip()
    assert len(first) >= 64
    assert first == second == (tmp_path / "secret_key").read_text().strip()
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_createadmin_non_interactive(tmp_path):
    env = dict(MODELSHIP_DATA_DIR=str(tmp_path))
    assert _manage(["migrate", "-v", "0"], **env).returncode == 0
    result = _manage(["createadmin", "--no-input"], MODELSHIP_ADMIN_EMAIL="root@example.com",
                     MODELSHIP_ADMIN_PASSWORD="a-long-admin-password-1", **env)
    assert result.returncode == 0, result.stderr
    assert "Admin root@example.com is ready" in result.stdout
    missing = _manage(["createadmin", "--no-input"], MODELSHIP_ADMIN_EMAIL="x@example.com", **env)
    assert missing.returncode == 1
    assert "Set MODELSHIP_ADMIN_PASSWORD." in missing.stderr
