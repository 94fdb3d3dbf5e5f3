"""ModelShip settings, read from the environment (see the README's table of variables).

With no environment at all this runs the embedded default: SQLite, a filesystem Celery
broker and local media, all under ``MODELSHIP_DATA_DIR`` (``./data``), with a secret key
generated once and kept there. ``MODELSHIP_ENV=production`` turns on the production
safeguards (a required ``SECRET_KEY``, HTTPS-only cookies, HSTS).
"""

from __future__ import annotations

import ipaddress
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DATA_DIR = Path(env("MODELSHIP_DATA_DIR", default=str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

PRODUCTION = env("MODELSHIP_ENV", default="development") == "production"
DEBUG = env.bool("DEBUG", default=False)


def _secret_key() -> str:
    key = env("SECRET_KEY", default="")
    if key:
        return key
    if PRODUCTION:
        raise environ.ImproperlyConfigured("SECRET_KEY must be set when MODELSHIP_ENV=production")
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "csp",
    "modelship",
    "accounts",
    "projects",
    "labeling",
    "review",
    "exports",
    "analytics",
    "billing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "modelship.middleware.BodyLengthRequired",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "modelship.urls"
WSGI_APPLICATION = "modelship.wsgi.application"
ASGI_APPLICATION = "modelship.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'modelship.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["ENGINE"] = "modelship.sqlite"  # numbers beyond 64 bits match nothing, as on PostgreSQL
    # Web and worker processes share the file: wait for a writer instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Cache (throttling, leases) ---------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
CACHES = {
    "default": env.cache(
        "CACHE_URL",
        default=(REDIS_URL if REDIS_URL else f"filecache://{DATA_DIR / 'cache'}"),
    )
}

# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(DATA_DIR / "static")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(DATA_DIR / "media")))
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
STORAGES = {
    "default": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": AWS_STORAGE_BUCKET_NAME,
                "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
                "region_name": env("AWS_S3_REGION_NAME", default=None),
                "default_acl": None,
                "file_overwrite": False,
            },
        }
        if AWS_STORAGE_BUCKET_NAME
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_UPLOAD_TEMP_DIR = env("FILE_UPLOAD_TEMP_DIR", default=None)
# Uploads above this many bytes stream to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FILES = env.int("DATA_UPLOAD_MAX_NUMBER_FILES", default=1000)

# --- Uploads and imports (labeling.uploads) -------------------------------------------------------
_MiB = 1024 * 1024
UPLOAD_MAX_REQUEST_BYTES = env.int("UPLOAD_MAX_REQUEST_BYTES", default=8 * 1024 * _MiB)
UPLOAD_MAX_FILE_BYTES = env.int("UPLOAD_MAX_FILE_BYTES", default=1024 * _MiB)  # one file, or one ZIP entry
UPLOAD_MAX_IMAGE_PIXELS = env.int("UPLOAD_MAX_IMAGE_PIXELS", default=100_000_000)
UPLOAD_MAX_TEXT_CHARS = env.int("UPLOAD_MAX_TEXT_CHARS", default=100_000)  # one text item
UPLOAD_MAX_JSON_BYTES = env.int("UPLOAD_MAX_JSON_BYTES", default=50 * _MiB)  # JSON is parsed whole; JSONL streams
UPLOAD_MAX_ZIP_ENTRIES = env.int("UPLOAD_MAX_ZIP_ENTRIES", default=100_000)
UPLOAD_MAX_ZIP_TOTAL_BYTES = env.int("UPLOAD_MAX_ZIP_TOTAL_BYTES", default=16 * 1024 * _MiB)
UPLOAD_MAX_ZIP_RATIO = env.float("UPLOAD_MAX_ZIP_RATIO", default=100.0)  # per entry and for the whole archive
UPLOAD_ZIP_RATIO_MIN_BYTES = env.int("UPLOAD_ZIP_RATIO_MIN_BYTES", default=_MiB)  # smaller entries may compress well
UPLOAD_REPORT_MAX_ROWS = env.int("UPLOAD_REPORT_MAX_ROWS", default=1000)  # per list in an import report
IMPORT_ASYNC_ITEMS = env.int("IMPORT_ASYNC_ITEMS", default=500)  # above this many items an import runs on a worker
IMPORT_ASYNC_BYTES = env.int("IMPORT_ASYNC_BYTES", default=50 * _MiB)  # ... or above this many bytes
IMPORT_BATCH_SIZE = env.int("IMPORT_BATCH_SIZE", default=5000)  # rows per insert

# --- Task failures (modelship.failures) ----------------------------------------------------------
# An unexpected error in a task (database, memory, a bug) is retried with exponential backoff until the
# job, import or export has had this many attempts; then it fails with the reason.
TASK_MAX_ATTEMPTS = env.int("TASK_MAX_ATTEMPTS", default=3)
TASK_RETRY_BACKOFF_SECONDS = env.float("TASK_RETRY_BACKOFF_SECONDS", default=10.0)  # before the first retry
TASK_RETRY_BACKOFF_MAX_SECONDS = env.float("TASK_RETRY_BACKOFF_MAX_SECONDS", default=600.0)  # longest wait

# --- Exports (exports.services) -------------------------------------------------------------------
EXPORT_TTL_HOURS = env.float("EXPORT_TTL_HOURS", default=72.0)  # a finished export's file is kept this long
EXPORT_CHUNK_SIZE = env.int("EXPORT_CHUNK_SIZE", default=2000)  # item rows fetched per database round trip
EXPORT_PROGRESS_EVERY = env.int("EXPORT_PROGRESS_EVERY", default=1000)  # items between progress writes
EXPORT_TEMP_DIR = env("EXPORT_TEMP_DIR", default=None)  # local disk the ZIP is built on (default: the system's)

# --- Mail (password reset links) -------------------------------------------------------------
# With EMAIL_HOST set, mail goes out over SMTP; otherwise each mail is written as a file under
# $MODELSHIP_DATA_DIR/mail (the embedded default), or EMAIL_BACKEND names another Django backend.
EMAIL_HOST = env("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
EMAIL_BACKEND = env("EMAIL_BACKEND", default=(
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
    else "django.core.mail.backends.filebased.EmailBackend"))
EMAIL_FILE_PATH = str(DATA_DIR / "mail")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="ModelShip <noreply@localhost>")
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)  # seconds a reset link stays valid
INVITATION_TTL_HOURS = env.int("INVITATION_TTL_HOURS", default=7 * 24)  # hours an invitation link stays valid

# --- REST API -------------------------------------------------------------------------------
JSON_MAX_BYTES = env.int("JSON_MAX_BYTES", default=DATA_UPLOAD_MAX_MEMORY_SIZE)  # one JSON request body
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=64)  # nesting levels of a JSON request body
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "modelship.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "modelship.throttles.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env("THROTTLE_USER", default="5000/hour"),
        "anon": env("THROTTLE_ANON", default="200/hour"),
        "auth": env("THROTTLE_AUTH", default="10/minute"),
        "quick": env("THROTTLE_QUICK", default="30/minute"),
    },
    "DEFAULT_PARSER_CLASSES": [
        "modelship.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "modelship.exceptions.exception_handler",
    "NUM_PROXIES": 0,  # never DRF's own X-Forwarded-For reading: modelship.throttles.client_ip decides
}
# Proxies (addresses or networks) whose X-Forwarded-For names the client; none by default.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError as _exc:
        raise environ.ImproperlyConfigured(f"TRUSTED_PROXIES: {_exc}") from None

# Every password login (API, /login/, admin) passes the lockout (accounts/lockout.py, docs/operations.md).
AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutModelBackend"]
LOGIN_LOCKOUT_FAILURES = env.int("LOGIN_LOCKOUT_FAILURES", default=5)  # per account and client address
LOGIN_LOCKOUT_ACCOUNT_FAILURES = env.int("LOGIN_LOCKOUT_ACCOUNT_FAILURES", default=20)  # per account, any address
LOGIN_LOCKOUT_WINDOW_SECONDS = env.int("LOGIN_LOCKOUT_WINDOW_SECONDS", default=900)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)
LOGIN_KNOWN_ADDRESS_DAYS = env.int("LOGIN_KNOWN_ADDRESS_DAYS", default=30)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ModelShip API",
    "DESCRIPTION": "Auto-label image and text datasets, review what needs a human, export.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SECURITY": [{"jwtAuth": []}],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "modelship.openapi.document_common_errors",
    ],
    # Choice sets that share a field name ("role", "status") get one stable name each.
    "ENUM_NAME_OVERRIDES": {
        "OrganizationRoleEnum": "accounts.models.Role",
        "ProjectRoleEnum": "projects.models.ProjectRole",
        "ProjectStatusEnum": "projects.models.Project.Status",
        "ImportJobStatusEnum": "labeling.models.ImportJob.Status",
        "ItemKindEnum": "labeling.models.Item.Kind",
        "ItemStateEnum": "labeling.models.Item.State",
    },
}

# --- Billing (billing app): credits, plans and Stripe. Off until STRIPE_SECRET_KEY is set ----------
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")  # dj-stripe reads the same name
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")  # whsec_…: verifies /api/billing/webhook
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")  # another Stripe API server (e.g. stripe-mock); default Stripe's
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10.0)
STRIPE_LIVE_MODE = env.bool("STRIPE_LIVE_MODE", default=False)
# Off: unlimited credits and no plan limits (a self-hosted ModelShip has nothing to sell).
BILLING_ENABLED = env.bool("BILLING_ENABLED", default=bool(STRIPE_SECRET_KEY))
# Stripe price ids of the plans' subscriptions, and of credit packs ("credits=price_id,...").
STRIPE_PLAN_PRICES = {
    "pro": env("STRIPE_PRICE_PRO", default=""),
    "team": env("STRIPE_PRICE_TEAM", default=""),
    "enterprise": env("STRIPE_PRICE_ENTERPRISE", default=""),
}
STRIPE_CREDIT_PACKS = {int(k): v for k, v in env.dict("STRIPE_CREDIT_PACKS", default={}).items()}
BILLING_SITE_URL = env("BILLING_SITE_URL", default="")  # where Checkout returns (default: the request's host)
# Credits per item auto-labelled: by modality, and per model where a model costs more.
BILLING_PRICE_TEXT = env.int("BILLING_PRICE_TEXT", default=1)
BILLING_PRICE_IMAGE = env.int("BILLING_PRICE_IMAGE", default=5)
BILLING_MODEL_PRICES = {k: int(v) for k, v in env.dict(
    "BILLING_MODEL_PRICES", default={"resnet-50": "8", "vit-base": "10"}).items()}
# What one credit costs, in the currency of the projects' hourly rates (analytics' cost savings).
BILLING_CREDIT_PRICE = env("BILLING_CREDIT_PRICE", default="0.001")
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
if BILLING_ENABLED:
    # dj-stripe mirrors Stripe's objects (the organizations' customers). Only with billing on: its
    # migrations take minutes on SQLite, which the embedded default should not pay for.
    INSTALLED_APPS.append("djstripe")

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
# Covering indexes (INCLUDE columns, for index-only analytics reads) are PostgreSQL's; SQLite builds
# the same indexes on their key columns alone, which is all the embedded default needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Redis hands a killed worker's unacknowledged messages back after this long: never while a task may
    # still be running (the hard time limit), and the sweeper (modelship/leases.py) is faster anyway.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 600}
# Periodic tasks, run by `celery -A modelship beat` (the compose `beat` service; `make run` starts one):
# the sweeper that sends again a stopped worker's tasks, export expiry, and analytics' statistics row per
# project (with the compaction of the trigger-kept item counts).
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
MODELSHIP_SWEEP_SECONDS = env.float("MODELSHIP_SWEEP_SECONDS", default=30.0)
ANALYTICS_STATS_MINUTES = env.int("ANALYTICS_STATS_MINUTES", default=30)
CELERY_BEAT_SCHEDULE = {
    "sweep": {"task": "modelship.tasks.sweep", "schedule": MODELSHIP_SWEEP_SECONDS},
    "exports-expire": {"task": "exports.tasks.exports_expire", "schedule": 3600.0},
    "analytics-daily-stats": {"task": "analytics.tasks.daily_stats_record",
                              "schedule": ANALYTICS_STATS_MINUTES * 60.0},
}
# Auto-labeling: chunk size on the inference queue, and request limits of the classify endpoints.
# A job's chunks are sized by the model's measured throughput (items/s, kept per model by the workers):
# about INFERENCE_CHUNK_SECONDS of work each, so a chunk's pickup and write are a small share of it; until
# a model has been measured, INFERENCE_CHUNK_SIZE. Always 64 to INFERENCE_CHUNK_MAX items, at least as
# many chunks per job as live worker processes take inference tasks (INFERENCE_CHUNKS_PER_JOB, if set,
# instead), so they all share one job, and at most INFERENCE_CHUNK_VALUES probabilities and logits per
# chunk (a chunk's memory on a 1,000-class model).
INFERENCE_CHUNK_SIZE = env.int("INFERENCE_CHUNK_SIZE", default=256)
INFERENCE_CHUNK_SECONDS = env.float("INFERENCE_CHUNK_SECONDS", default=10.0)
INFERENCE_CHUNK_MIN = 64
INFERENCE_CHUNK_MAX = env.int("INFERENCE_CHUNK_MAX", default=2048)
INFERENCE_CHUNKS_PER_JOB = env.int("INFERENCE_CHUNKS_PER_JOB", default=0)  # 0: the live inference processes
INFERENCE_CHUNK_VALUES = 1_000_000
CLASSIFY_BATCH_MAX_ITEMS = env.int("CLASSIFY_BATCH_MAX_ITEMS", default=1000)
CLASSIFY_TEXT_MAX_CHARS = env.int("CLASSIFY_TEXT_MAX_CHARS", default=20000)
QUICK_TEXT_MAX_CHARS = env.int("QUICK_TEXT_MAX_CHARS", default=1000)
# The check of a project's default_model (a callable(name=, kind=) raising DomainError): projects calls it
# without importing labeling, which owns the models.
PROJECT_MODEL_CHECK = "labeling.inference.jobs.model_check"
ACTIVE_LEARNING_POOL_MAX = env.int("ACTIVE_LEARNING_POOL_MAX", default=20000)
MODELSHIP_HEARTBEAT_SECONDS = env.float("MODELSHIP_HEARTBEAT_SECONDS", default=10.0)
# A worker silent for this long is gone: the sweeper sends its tasks again.
MODELSHIP_WORKER_STALE_SECONDS = env.float("MODELSHIP_WORKER_STALE_SECONDS", default=MODELSHIP_HEARTBEAT_SECONDS * 3)
MODELSHIP_REQUIRE_SERVICES = env.bool("MODELSHIP_REQUIRE_SERVICES", default=False)

# --- Production safeguards ------------------------------------------------------------------
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Content-Security-Policy (django-csp) ---------------------------------------------------------
# Scripts only from our own static files (or an inline one carrying the request's nonce,
# {{ CSP_NONCE }}); styles may be inline (templates set widths and colours in style attributes). No
# form-action: the billing page's forms are redirected on to Stripe Checkout.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    },
}

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
