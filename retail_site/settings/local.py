"""Settings for a developer's machine and the two-command demo."""

from .base import *  # noqa: F403
from .base import env

# On for `manage.py runserver`; the Procfiles that `make run` starts set DEBUG=false unless it is set.
DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="local-only-insecure-key-change-me-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
