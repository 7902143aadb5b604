"""Settings shared by every environment.

Everything that differs between a laptop and production is read from the environment through one
``env`` reader; ``local``, ``test`` and ``production`` only change defaults.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

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
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_celery_beat",
    "django_prometheus",
    "core",
    "crm",
    "recommender",
    "inventory",
    "portal",
    "shop",
    "demo",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes asks: turns a locked-out form login into a 429 page.
    "axes.middleware.AxesMiddleware",
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

# A read replica (e.g. PostgreSQL streaming replication): reads go there, writes and the reads after a
# write in the same request or task stay on the primary (retail_site.db_router).
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **DATABASES["default"],
        **env.db("DATABASE_REPLICA_URL"),
        "CONN_MAX_AGE": DATABASES["default"].get("CONN_MAX_AGE", 0),
        "OPTIONS": DATABASES["default"].get("OPTIONS", {}),
    }
    DATABASE_ROUTERS = ["retail_site.db_router.PrimaryReplicaRouter"]
    MIDDLEWARE.insert(1, "retail_site.db_router.PrimaryAfterWriteMiddleware")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule on the password: Django tells validators when a password changed; this one then
    # revokes the login's API tokens.
    {"NAME": "crm.api.authentication.ApiTokensRevokedOnPasswordChange"},
]

# --- Content-Security-Policy (django-csp) -------------------------------------------------------
# Every page: scripts, styles, pictures and fonts only from this site, no inline script or handler (they
# live in static/js), no plugins, no framing. Style attributes stay allowed (a progress bar's width); they
# cannot run code. The API documentation pages relax style elements for Swagger UI and Redoc
# (retail_site/api_urls.py). CSP_REPORT_URI, if set, receives the browsers' violation reports.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        **({"report-uri": [env("CSP_REPORT_URI")]} if env("CSP_REPORT_URI", default="") else {}),
    }
}

# --- Logins -----------------------------------------------------------------------------------
# Failed logins (the API's token login, /accounts/login/, /admin/login/, and a wrong old password in
# /accounts/password_change/) are counted by django-axes per account, from whatever address they come;
# LOGIN_FAILURE_LIMIT failures lock that account out of logging in and of changing its password (429) for
# LOGIN_LOCKOUT_MINUTES. A successful login clears the count of the account that signed in.
# The address is not one of axes' lockout parameters: axes clears every count a lockout parameter matches
# when a login succeeds, so with the address among them an attacker's login to their own account cleared
# the count of the account they were guessing at from the same address; and ten guesses at one account
# locked out everyone behind that address (a NAT, an office). An address is locked out instead after
# LOGIN_ADDRESS_FAILURE_LIMIT failures at any accounts within LOGIN_LOCKOUT_MINUTES, a count of its own
# that no login clears (retail_site.accounts.LoginLockoutHandler; 0 = no limit per address).
AXES_HANDLER = "retail_site.accounts.LoginLockoutHandler"
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=100)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for the address among the lockout parameters, lest a lockout by user agent or cookie be
# dodged by changing them; a lockout by account is not dodged that way.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_CLIENT_IP_CALLABLE = "crm.api.client.client_address"
AXES_LOCKOUT_CALLABLE = "crm.api.errors.login_lockout"
# How many reverse proxies in front of the web process append to X-Forwarded-For. 0: the header is not
# trusted and the client is the connection's address (a client could otherwise pick its own address to
# dodge rate limits and lockouts). Behind one load balancer that appends, 1.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

# API tokens (django-rest-knox): stored as SHA-512 digests, one per login on a device or integration,
# expiring API_TOKEN_TTL_HOURS after they are issued (0: never), revoked by DELETE /api/auth/token/,
# on the portal's API tokens page (crm.services.api_tokens), and when the login's password changes.
API_TOKEN_TTL_HOURS = env.int("API_TOKEN_TTL_HOURS", default=30 * 24)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=API_TOKEN_TTL_HOURS) if API_TOKEN_TTL_HOURS else None,
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")  # where collectstatic writes
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
# Written before every amount on the pages (the ``money`` template filter).
CURRENCY_SYMBOL = env.str("CURRENCY_SYMBOL", default="£")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# Uploads: imports go through a file on disk, never held whole in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The portal stops reading an upload as soon as it passes IMPORT_UPLOAD_MAX_BYTES. XLSX and Parquet are
# packed: before one is read, what it unpacks to (and a Parquet file's rows) is checked against these.
IMPORT_UPLOAD_MAX_BYTES = env.int("IMPORT_UPLOAD_MAX_BYTES", default=200 * 1024 * 1024)
IMPORT_MAX_UNPACKED_BYTES = env.int("IMPORT_MAX_UNPACKED_BYTES", default=1024 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=5_000_000)

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
# Queue names can be changed so that several installations share one broker (or a test its own).
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TRAINING_QUEUE = env("CELERY_TRAINING_QUEUE", default="training")
CELERY_TASK_ROUTES = {
    "recommender.tasks.train_model_version_task": {"queue": CELERY_TRAINING_QUEUE},
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
    "nightly-forecast": {
        "task": "inventory.tasks.scheduled_forecast_task",
        "schedule": crontab(hour=4, minute=0),
    },
    "nightly-retention": {
        "task": "crm.tasks.privacy.scheduled_retention_task",
        "schedule": crontab(hour=4, minute=15),
    },
}
CELERY_BEAT_SCHEDULE["sweep-stale-jobs"] = {
    "task": "core.tasks.sweep_jobs_task",
    "schedule": crontab(minute="*/5"),
}
CELERY_BEAT_SCHEDULE["sweep-stale-model-versions"] = {
    "task": "recommender.tasks.sweep_model_versions_task",
    "schedule": crontab(minute="*/5"),
}
CELERY_TIMEZONE = TIME_ZONE

# --- Background jobs (core.tasks) ---------------------------------------------------------------
# Every job task has a soft time limit (the task is told and fails its job with the reason) and a hard
# one (the process is killed). Training has its own, longer limits (RECOMMENDER_TRAIN_*).
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
# A job started this many times (retries after an error and redeliveries after its worker died,
# together) is failed with the reason instead of being started again: a poison message stops here.
CELERY_TASK_MAX_DELIVERIES = env.int("CELERY_TASK_MAX_DELIVERIES", default=3)
# A running job's process stamps its Job row this often; a job whose stamp is older than
# JOB_STALE_AFTER_SECONDS and whose process is gone is dead (the sweep fails it, a redelivery takes it).
JOB_HEARTBEAT_SECONDS = env.int("JOB_HEARTBEAT_SECONDS", default=15)
JOB_STALE_AFTER_SECONDS = env.int("JOB_STALE_AFTER_SECONDS", default=120)
# Queued jobs no worker took (the broker was down when they were sent) are sent again after this long,
# and failed after the second one.
JOB_RESEND_AFTER_SECONDS = env.int("JOB_RESEND_AFTER_SECONDS", default=10 * 60)
JOB_QUEUED_FAIL_AFTER_SECONDS = env.int("JOB_QUEUED_FAIL_AFTER_SECONDS", default=6 * 60 * 60)
# A job waiting for another of its kind (one training at a time) asks again after this many seconds.
JOB_LOCK_RETRY_SECONDS = env.int("JOB_LOCK_RETRY_SECONDS", default=30)

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
# Discovery, so a regular customer's list is not all repeat buying: a never-bought product's score
# counts RECOMMENDER_NEW_ITEM_WEIGHT times a repeat's when a served list is ordered, and each list's
# first 8 places hold at least RECOMMENDER_MIN_NEW_ITEMS of them (the MLP's best new ones). The weight
# "auto" (the default) is each version's own: the lowest whose lists beat Popular (its list and its
# ranking of never-bought products, or its list alone where no weight beats both) on never-bought
# purchases in the held-out month its training measures (recommender.ml.discovery); a number fixes it
# for every version. The weight that clears Popular differs from month to month and from shop to shop
# (BENCHMARKS.md, "The discovery weight on two validation months"); the minimum was chosen on a
# validation split (BENCHMARKS.md, recommender discovery).


def _new_item_weight(value: str) -> float | str:
    if value.strip().lower() == "auto":
        return "auto"
    try:
        weight = float(value)
    except ValueError:
        weight = 0.0
    if not weight > 0:
        raise ImproperlyConfigured(
            f"RECOMMENDER_NEW_ITEM_WEIGHT must be a number above 0 or 'auto', got {value!r}"
        )
    return weight


RECOMMENDER_NEW_ITEM_WEIGHT = _new_item_weight(env.str("RECOMMENDER_NEW_ITEM_WEIGHT", default="auto"))
RECOMMENDER_MIN_NEW_ITEMS = env.int("RECOMMENDER_MIN_NEW_ITEMS", default=1)
# Real time: what a shopper did in the last minutes re-ranks the stored list at read time
# (recommender.ml.realtime). The window is one visit; the weight (the neighbours' share of the blend,
# with the fade of earlier signals in recommender.ml.realtime.SIGNAL_FADE) was chosen on a validation
# split (BENCHMARKS.md, basket completion); the neighbours read per signal are the ones each version
# stores (recommender.services.scoring.NEIGHBOURS_PER_PRODUCT).
RECOMMENDER_REALTIME_WINDOW_MINUTES = env.int("RECOMMENDER_REALTIME_WINDOW_MINUTES", default=60)
RECOMMENDER_REALTIME_WEIGHT = env.float("RECOMMENDER_REALTIME_WEIGHT", default=0.7)
RECOMMENDER_REALTIME_NEIGHBOURS = env.int("RECOMMENDER_REALTIME_NEIGHBOURS", default=12)
# Staff explanations (which inputs drove each score) computed for every written row at scoring time;
# they cost scoring time (BENCHMARKS.md), so a very large shop may switch them off.
RECOMMENDER_EXPLANATIONS = env.bool("RECOMMENDER_EXPLANATIONS", default=True)
# Overrides of recommender.ml.TrainConfig, e.g. '{"epochs": 10}'.
RECOMMENDER_TRAIN_CONFIG = env.json("RECOMMENDER_TRAIN_CONFIG", default={})
RECOMMENDER_SCORE_CHUNK_SIZE = env.int("RECOMMENDER_SCORE_CHUNK_SIZE", default=2000)
# Soft limit raises inside the task so it can mark its version failed; the hard limit kills it.
RECOMMENDER_TRAIN_SOFT_TIME_LIMIT = env.int("RECOMMENDER_TRAIN_SOFT_TIME_LIMIT", default=60 * 60)
RECOMMENDER_TRAIN_TIME_LIMIT = env.int("RECOMMENDER_TRAIN_TIME_LIMIT", default=70 * 60)

# --- Inventory --------------------------------------------------------------------------------
INVENTORY_FORECAST_HORIZON_DAYS = env.int("INVENTORY_FORECAST_HORIZON_DAYS", default=28)
# The service the safety stock aims at, read as INVENTORY_SERVICE_MEASURE says.
INVENTORY_SERVICE_LEVEL = env.float("INVENTORY_SERVICE_LEVEL", default=0.95)
# "cycle": the chance that a review cycle has no stock-out (z of the normal quantile); "fill_rate": the
# share of each product's demand met from stock (its expected units short per cycle, from the
# forecast's negative binomial). Cycle is the default: over two 13-week replays before the evaluated
# window it held less stock for the same share of all demand met (BENCHMARKS.md, Replenishment).
INVENTORY_SERVICE_MEASURE = env.str("INVENTORY_SERVICE_MEASURE", default="cycle")
# Days between two looks at the reorder list: an order covers the lead time plus this.
INVENTORY_REVIEW_DAYS = env.int("INVENTORY_REVIEW_DAYS", default=7)
# Used for a product without its own lead time.
INVENTORY_DEFAULT_LEAD_TIME_DAYS = env.int("INVENTORY_DEFAULT_LEAD_TIME_DAYS", default=14)
# A product holds overstock with more than this many weeks of forecast demand on hand.
INVENTORY_OVERSTOCK_WEEKS = env.int("INVENTORY_OVERSTOCK_WEEKS", default=12)
# Recommendations and promotion targets leave out products forecast to run out before a new order
# could arrive; false: only products already out of stock are left out.
INVENTORY_AVOID_STOCKOUTS = env.bool("INVENTORY_AVOID_STOCKOUTS", default=True)
# Redis (and SQS) hand an unacknowledged message to another worker after the visibility timeout: it
# must outlast the longest hard time limit, or a long job would run twice.
if not CELERY_BROKER_URL.startswith(("filesystem://", "amqp://", "pyamqp://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": max(RECOMMENDER_TRAIN_TIME_LIMIT, CELERY_TASK_TIME_LIMIT) + 10 * 60
    }

# --- REST framework ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.authentication.PreparedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "crm.api.filters.OrderingFilter",
        "crm.api.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "crm.api.schema.AutoSchema",
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_THROTTLE_CLASSES": [
        "crm.api.throttles.AnonWindowRateThrottle",
        "crm.api.throttles.UserWindowRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/min"),
        "user": env("API_THROTTLE_USER", default="100000/hour"),
    },
}
# The API's schema and its documentation pages (/api/schema/, /api/docs/, /api/redoc/) are for staff
# unless API_DOCS_PUBLIC is true: the schema maps every endpoint and parameter.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)
SPECTACULAR_SETTINGS = {
    "TITLE": "Retail CRM API",
    "DESCRIPTION": "Customers, catalogue, orders, behaviour, recommendations, segments and promotions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["crm.api.permissions.ApiDocsPermission"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc assets come from drf-spectacular-sidecar's static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PATH_CONVERTER_OVERRIDES": {"external_id": {"type": "string", "pattern": r"^[^/\x00]+$"}},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm.api.schema.operation_links",
    ],
}

# LOG_FORMAT=json writes one JSON object per line (for a log shipper); plain text otherwise.
LOG_FORMAT = env("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
# Celery workers keep this logging instead of installing their own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# /metrics answers this machine, and anyone sending "Authorization: Bearer <METRICS_TOKEN>".
METRICS_TOKEN = env("METRICS_TOKEN", default="")

DEMO_WEB_PORT = env.int("WEB_PORT", default=8000)

# --- Marketing --------------------------------------------------------------------------------
# Share of a promoted product's discounted price kept as margin, for a target's expected value.
PROMOTION_MARGIN_RATE = env.float("PROMOTION_MARGIN_RATE", default=0.3)
# Predicted 12-month CLV is spend x this rate (1.0: revenue, not margin).
CLV_MARGIN_RATE = env.float("CLV_MARGIN_RATE", default=1.0)

# --- Data protection --------------------------------------------------------------------------
# Key of the keyed hash (HMAC-SHA256) that replaces customer ids in pseudonymized exports and names
# erased customers. Keep it secret and stable: the same key gives the same pseudonyms in every export.
# Empty: derived from SECRET_KEY.
PSEUDONYMIZATION_KEY = env("PSEUDONYMIZATION_KEY", default="")
# Behaviour events older than this are deleted by the nightly retention task.
BEHAVIOUR_EVENT_RETENTION_DAYS = env.int("BEHAVIOUR_EVENT_RETENTION_DAYS", default=400)
