"""The processes `make run` and `make cluster` start (Procfile, Procfile.cluster): DEBUG off unless asked.

`make run` uses the local settings, whose DEBUG defaults to on for a developer's `manage.py runserver`.
The Procfiles' lines set it off, so the demo's web server does not show a traceback or the URL patterns
to whoever can reach it; `DEBUG=true make run` still turns it on.
"""

import os
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tests.faults.workers import free_port, stop

from .test_settings import IGNORED_ENVIRONMENT, ROOT, run_django

PROCFILES = ("Procfile", "Procfile.cluster")


def procfile_lines(name: str) -> dict[str, str]:
    return dict(
        (process, command.strip())
        for process, command in (
            line.split(":", 1) for line in (ROOT / name).read_text().splitlines() if line[:1].isalnum()
        )
    )


def environment(**extra: str) -> dict[str, str]:
    """The environment `make run` gives its processes: the Makefile's settings module, no DEBUG."""
    clean = {k: v for k, v in os.environ.items() if k not in {*IGNORED_ENVIRONMENT, "DEBUG"}}
    clean.update({"DJANGO_SETTINGS_MODULE": "retail_site.settings.local", **extra})
    return clean


def debug_seen_by(command: str, **extra: str) -> str:
    """DEBUG as the line's program would find it: the line run by a shell, as honcho runs it, with the
    program replaced by one that prints it."""
    setting, program = command.split(".venv/bin/", 1)
    result = subprocess.run(
        ["/bin/sh", "-c", f"{setting} /bin/sh -c 'echo \"$DEBUG\"'"],
        env=environment(**extra),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("procfile", PROCFILES)
def test_every_process_runs_with_debug_off_unless_debug_is_set(procfile):
    lines = procfile_lines(procfile)
    assert lines

    for process, command in lines.items():
        assert debug_seen_by(command) == "false", process
        assert debug_seen_by(command, DEBUG="true") == "true", process


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.integration
def test_the_demo_web_server_answers_an_unknown_address_with_the_sites_page_not_debugs(tmp_path):
    # as `make run` does: its setup collects the static files, then the Procfile's web line serves
    served = environment(
        STATIC_ROOT=str(tmp_path / "static"), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"
    )
    collected = run_django(
        "retail_site.settings.local",
        "from django.core.management import call_command; "
        "call_command('collectstatic', interactive=False, verbosity=0)",
        **{name: served[name] for name in ("STATIC_ROOT", "DATABASE_URL")},
    )
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    web = subprocess.Popen(
        ["/bin/sh", "-c", procfile_lines("Procfile")["web"]],
        cwd=ROOT,
        env={**served, "WEB_PORT": str(port), "WEB_WORKERS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status, page = fetch(f"http://127.0.0.1:{port}/no-such-page/")
                break
            except (ConnectionError, urllib.error.URLError):
                assert web.poll() is None, "gunicorn exited"
                assert time.monotonic() < deadline, "gunicorn did not answer in 90 s"
                time.sleep(0.5)
    finally:
        os.killpg(web.pid, 15)
        stop(web)

    assert status == 404
    assert 'id="not-found"' in page
    assert "URLconf" not in page and "DEBUG = True" not in page
