"""Celery tasks of the CRM, one module per area; imported here so that autodiscovery finds them."""

from .imports import *  # noqa: F403
from .maintenance import *  # noqa: F403
from .marketing import *  # noqa: F403
from .privacy import *  # noqa: F403
