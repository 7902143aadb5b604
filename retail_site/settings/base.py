"""Settings shared by every environment.

Everything that differs between a laptop and production is read from the environment through one
``env`` reader; ``local``, ``test`` and ``production`` only change defaults.
"""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "crm",
    "recommender",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "retail_site.urls"
WSGI_APPLICATION = "retail_site.wsgi.application"

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
            ],
        },
    },
]

# SQLite under var/ unless DATABASE_URL says otherwise. WAL and an immediate transaction mode let
# the web process and the worker write to the same file without "database is locked" errors.
SQLITE_PATH = VAR_DIR / "db.sqlite3"
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # A health check costs a round trip per request; without it, a connection the server dropped fails
    # one request and is replaced. On by choice (CONN_HEALTH_CHECKS=true) where that matters more.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
    # Parameters travel apart from the SQL, and psycopg prepares a statement once it has run
    # DB_PREPARE_THRESHOLD times on a connection (the API's hot reads): the server then parses and plans
    # it once per connection. 0 prepares nothing (e.g. behind a pooler that cannot keep statements).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["server_side_binding"] = env.bool("SERVER_SIDE_BINDING", default=True)
    if options["server_side_binding"] and env.int("DB_PREPARE_THRESHOLD", default=5) > 0:
        options["prepare_threshold"] = env.int("DB_PREPARE_THRESHOLD", default=5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "/media/"

# Per-process memory cache by default; CACHE_URL (e.g. redis://127.0.0.1:6379/1) shares it between
# web workers in production.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=300)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# Uploads: imports go through a file on disk, never held whole in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
IMPORT_UPLOAD_MAX_BYTES = env.int("IMPORT_UPLOAD_MAX_BYTES", default=200 * 1024 * 1024)

# --- Celery -----------------------------------------------------------------------------------
# With no CELERY_BROKER_URL the broker is kombu's filesystem transport: a folder under var/ that
# the web process, the worker and beat share. A real worker process still runs every job.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = env.path("CELERY_FILESYSTEM_DIR", default=VAR_DIR / "celery")
    for _sub in ("queue", "processed", "control"):
        (Path(_queue_dir) / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(Path(_queue_dir) / "queue"),
        "data_folder_out": str(Path(_queue_dir) / "queue"),
        "processed_folder": str(Path(_queue_dir) / "processed"),
        "control_folder": str(Path(_queue_dir) / "control"),
        "store_processed": False,
    }
# Progress and results live in Job rows, so no result backend is needed.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
# A job whose worker dies is redelivered to another worker rather than lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "recommender.tasks.train_model_version_task": {"queue": "training"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "nightly-retrain": {
        "task": "recommender.tasks.scheduled_retrain_task",
        "schedule": crontab(hour=2, minute=0),
    },
    "hourly-rescore": {
        "task": "recommender.tasks.scheduled_rescore_task",
        "schedule": crontab(minute=15),
    },
    "nightly-segments": {
        "task": "crm.tasks.marketing.scheduled_segments_task",
        "schedule": crontab(hour=3, minute=30),
    },
}
CELERY_TIMEZONE = TIME_ZONE

# --- Order import -----------------------------------------------------------------------------
# Item codes in canonical order files that are not catalogue products (postage, fees, manual
# adjustments): their lines keep the code and text but never create a Product. A trailing "*" matches
# any code with that prefix. The defaults are the service codes of the UCI Online Retail data.
CRM_NON_PRODUCT_CODES = env.list(
    "CRM_NON_PRODUCT_CODES",
    default=[
        *("POST", "DOT", "M", "C2", "D", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS", "ADJUST"),
        *("DCGS*", "GIFT_*"),
    ],
)

# --- Recommender ------------------------------------------------------------------------------
MODEL_ARTIFACT_ROOT = env.path("MODEL_ARTIFACT_ROOT", default=VAR_DIR / "models")
RECOMMENDER_TOP_N = env.int("RECOMMENDER_TOP_N", default=20)
RECOMMENDER_ALLOW_BOUGHT = env.bool("RECOMMENDER_ALLOW_BOUGHT", default=True)
RECOMMENDER_MAX_PER_CATEGORY = env.int("RECOMMENDER_MAX_PER_CATEGORY", default=0)
# Products the customer never bought in each served list (the MLP's best new ones), so a regular
# customer's list is not all repeat buying; default measured on a validation split (BENCHMARKS.md).
RECOMMENDER_MIN_NEW_ITEMS = env.int("RECOMMENDER_MIN_NEW_ITEMS", default=2)
# Overrides of recommender.ml.TrainConfig, e.g. '{"epochs": 10}'.
RECOMMENDER_TRAIN_CONFIG = env.json("RECOMMENDER_TRAIN_CONFIG", default={})
RECOMMENDER_SCORE_CHUNK_SIZE = env.int("RECOMMENDER_SCORE_CHUNK_SIZE", default=2000)
# Soft limit raises inside the task so it can mark its version failed; the hard limit kills it.
RECOMMENDER_TRAIN_SOFT_TIME_LIMIT = env.int("RECOMMENDER_TRAIN_SOFT_TIME_LIMIT", default=60 * 60)
RECOMMENDER_TRAIN_TIME_LIMIT = env.int("RECOMMENDER_TRAIN_TIME_LIMIT", default=70 * 60)

# --- REST framework ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.authentication.PreparedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "crm.api.throttles.AnonWindowRateThrottle",
        "crm.api.throttles.UserWindowRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/min"),
        "user": env("API_THROTTLE_USER", default="100000/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Retail CRM API",
    "DESCRIPTION": "Customers, catalogue, orders, behaviour, recommendations, segments and promotions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc assets come from drf-spectacular-sidecar's static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

DEMO_WEB_PORT = env.int("WEB_PORT", default=8000)

# --- Marketing --------------------------------------------------------------------------------
# Share of a promoted product's discounted price kept as margin, for a target's expected value.
PROMOTION_MARGIN_RATE = env.float("PROMOTION_MARGIN_RATE", default=0.3)
# Predicted 12-month CLV is spend x this rate (1.0: revenue, not margin).
CLV_MARGIN_RATE = env.float("CLV_MARGIN_RATE", default=1.0)
