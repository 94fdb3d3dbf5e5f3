"""Settings for the test suite: the normal settings over a throw-away data directory."""

import os
import tempfile

os.environ.setdefault("MODELSHIP_DATA_DIR", tempfile.mkdtemp(prefix="modelship-test-"))
os.environ.setdefault("MODELSHIP_HEARTBEAT_SECONDS", "1")

from modelship.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
