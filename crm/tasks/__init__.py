"""Celery tasks of the CRM, one module per area; imported here so that autodiscovery finds them."""

from .maintenance import *  # noqa: F403
