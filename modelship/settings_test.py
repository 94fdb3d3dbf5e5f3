"""Settings for the test suite: the normal settings over a throw-away data directory."""

import os
import tempfile

os.environ.setdefault("MODELSHIP_DATA_DIR", tempfile.mkdtemp(prefix="modelship-test-"))
os.environ.setdefault("MODELSHIP_HEARTBEAT_SECONDS", "1")

from modelship.settings import *  # noqa: E402,F403

# Billing tests turn billing on at run time: dj-stripe's tables must exist (created from its models).
if "djstripe" not in INSTALLED_APPS:  # noqa: F405
    INSTALLED_APPS.append("djstripe")  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

if DATABASES["default"]["ENGINE"] != "modelship.sqlite":  # noqa: F405
    # Concurrent suites on one server must not share (and drop) each other's test database.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}  # noqa: F405
