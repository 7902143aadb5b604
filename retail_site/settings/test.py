"""Settings for the test suite: the same code, on whatever DATABASE_URL / CELERY_BROKER_URL say."""

from pathlib import Path

from .base import *  # noqa: F403
from .base import CELERY_BROKER_URL, DATABASES, VAR_DIR, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY", default="test-only-insecure-key")
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MODEL_ARTIFACT_ROOT = env.path("MODEL_ARTIFACT_ROOT", default=VAR_DIR / "test-models")
# A test database on disk (not in memory) so that a real worker process can open it too.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _db_path = Path(DATABASES["default"]["NAME"])
    DATABASES["default"]["TEST"] = {"NAME": str(_db_path.with_name(f"test-{_db_path.name}"))}
# On PostgreSQL, a second database that tests of the read-replica router use as the replica (only the
# tests that ask for it create it; no router is installed unless a test installs one).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and "replica" not in DATABASES:
    DATABASES["replica"] = {**DATABASES["default"], "NAME": f"{DATABASES['default']['NAME']}_replica"}
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"anon": "10000/min", "user": "100000/min"}  # noqa: F405

# Tests use their own broker folder, never the one a running demo worker reads.
if CELERY_BROKER_URL.startswith("filesystem://"):
    _test_queue_dir = Path(env("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "test-celery")))
    for _sub in ("queue", "processed", "control"):
        (_test_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_test_queue_dir / "queue"),
        "data_folder_out": str(_test_queue_dir / "queue"),
        "processed_folder": str(_test_queue_dir / "processed"),
        "control_folder": str(_test_queue_dir / "control"),
        "store_processed": False,
    }

# A real cache (throttling needs one); tests/conftest.py clears it before every test.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
