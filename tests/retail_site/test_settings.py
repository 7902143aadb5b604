"""Settings come from the environment; production refuses to start unsafe and passes check --deploy."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What this test run sets for itself, and what a browser test may leave set for its session.
IGNORED_ENVIRONMENT = {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
SAFE_KEY = "k" * 20 + "-production-secret-key-for-tests-0123456789"


def run_django(settings_module: str, code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY"}
    }
    clean.update({"DJANGO_SETTINGS_MODULE": settings_module, **env})
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_json(settings_module: str, **env: str) -> dict:
    code = (
        "from django.conf import settings; import json; "
        "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
        "'name': str(settings.DATABASES['default']['NAME']), 'broker': settings.CELERY_BROKER_URL, "
        "'debug': settings.DEBUG, 'artifacts': str(settings.MODEL_ARTIFACT_ROOT), "
        "'database': {k: settings.DATABASES['default'].get(k) for k in "
        "('CONN_MAX_AGE', 'CONN_HEALTH_CHECKS', 'OPTIONS')}}))"
    )
    result = run_django(settings_module, code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_defaults_without_environment():
    values = settings_json("retail_site.settings.local")
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(ROOT / "var" / "db.sqlite3")
    assert values["broker"] == "filesystem://"
    assert values["artifacts"] == str(ROOT / "var" / "models")


def test_database_broker_and_artifacts_come_from_the_environment():
    values = settings_json(
        "retail_site.settings.local",
        DATABASE_URL="postgres://shop:secret@db.internal:5433/retail",
        CELERY_BROKER_URL="redis://cache.internal:6379/2",
        MODEL_ARTIFACT_ROOT="/srv/models",
        DEBUG="false",
    )
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["name"] == "retail"
    assert values["broker"] == "redis://cache.internal:6379/2"
    assert values["artifacts"] == "/srv/models"
    assert values["debug"] is False


def test_production_refuses_to_start_without_a_secret_key():
    result = run_django("retail_site.settings.production", "pass", ALLOWED_HOSTS="shop.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = run_django("retail_site.settings.production", "pass", SECRET_KEY=SAFE_KEY)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    env = {k: v for k, v in os.environ.items() if k not in IGNORED_ENVIRONMENT}
    env.update(
        DJANGO_SETTINGS_MODULE="retail_site.settings.production",
        SECRET_KEY=SAFE_KEY,
        ALLOWED_HOSTS="shop.example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_wsgi_module_loads_every_view_before_the_first_request():
    # with gunicorn --preload the master imports this module once; the workers it forks must not spend
    # their first request importing the URLconf
    result = run_django(
        "retail_site.settings.local",
        "import sys, retail_site.wsgi; "
        "print(sorted({'retail_site.urls', 'recommender.api.views', 'portal.urls'} - set(sys.modules)))",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_postgresql_connections_are_kept_and_bind_parameters_on_the_server():
    options = settings_json(
        "retail_site.settings.local", DATABASE_URL="postgres://postgres@127.0.0.1:5432/any"
    )["database"]
    assert options["CONN_MAX_AGE"] == 60
    assert options["CONN_HEALTH_CHECKS"] is False
    assert options["OPTIONS"]["server_side_binding"] is True
    assert options["OPTIONS"]["prepare_threshold"] == 5
    switched = settings_json(
        "retail_site.settings.local",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/any",
        SERVER_SIDE_BINDING="false",
        CONN_HEALTH_CHECKS="true",
    )["database"]
    assert switched["OPTIONS"]["server_side_binding"] is False
    assert "prepare_threshold" not in switched["OPTIONS"]
    assert switched["CONN_HEALTH_CHECKS"] is True


def _run_without_settings_module(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {*IGNORED_ENVIRONMENT, "DJANGO_SETTINGS_MODULE"}}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_a_web_or_worker_process_without_a_settings_module_refuses_to_start_unsafe():
    # gunicorn and celery started without DJANGO_SETTINGS_MODULE get the production settings, which want
    # a secret key and hosts, instead of the local ones (DEBUG on, a key everyone knows)
    web = _run_without_settings_module("import retail_site.wsgi")
    worker = _run_without_settings_module(
        "from retail_site.celery import app; from django.conf import settings; settings.DEBUG"
    )

    assert web.returncode != 0 and "SECRET_KEY must be set" in web.stderr
    assert worker.returncode != 0 and "SECRET_KEY must be set" in worker.stderr


def test_with_production_settings_given_the_web_process_starts_without_debug():
    result = _run_without_settings_module(
        "import retail_site.wsgi; from django.conf import settings; "
        "print(settings.DEBUG, settings.SECRET_KEY[:4])",
        SECRET_KEY=SAFE_KEY,
        ALLOWED_HOSTS="shop.example.com",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False kkkk"


def test_manage_py_still_defaults_to_the_local_settings():
    result = _run_without_settings_module(
        "import os, manage, sys; sys.argv = ['manage.py', 'diffsettings']; manage.main()"
    )

    assert result.returncode == 0, result.stderr
    assert "DEBUG = True" in result.stdout


def test_the_new_item_weight_is_auto_by_default_a_number_when_set_and_refused_by_name_otherwise():
    code = "from django.conf import settings; print(repr(settings.RECOMMENDER_NEW_ITEM_WEIGHT))"

    default = run_django("retail_site.settings.local", code)
    fixed = run_django("retail_site.settings.local", code, RECOMMENDER_NEW_ITEM_WEIGHT="1.5")
    wrong = run_django("retail_site.settings.local", code, RECOMMENDER_NEW_ITEM_WEIGHT="lots")
    zero = run_django("retail_site.settings.local", code, RECOMMENDER_NEW_ITEM_WEIGHT="0")

    assert default.stdout.strip() == "'auto'", default.stderr
    assert fixed.stdout.strip() == "1.5", fixed.stderr
    for refused, value in ((wrong, "'lots'"), (zero, "'0'")):
        assert refused.returncode != 0
        assert (
            f"RECOMMENDER_NEW_ITEM_WEIGHT must be a number above 0 or 'auto', got {value}" in refused.stderr
        )


def test_uploaded_order_files_have_no_address_even_with_debug_on():
    # MEDIA_ROOT holds uploads with customers' data until a worker reads them; with DEBUG on (as a
    # developer runs) Django's static() helper would have served them to anyone at /media/...
    result = run_django(
        "retail_site.settings.local",
        "from django.conf import settings; from django.urls import resolve, Resolver404\n"
        "try:\n    resolve(settings.MEDIA_URL + 'imports/0a1b2c3d4e5f-orders.csv'); print('served')\n"
        "except Resolver404:\n    print('no address', settings.DEBUG)",
        DEBUG="true",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "no address True"
