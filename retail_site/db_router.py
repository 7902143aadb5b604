"""Reads from a replica, writes to the primary (when ``DATABASE_REPLICA_URL`` is set).

A read goes to the replica unless this request or task has already written, or runs inside a
transaction: a replica lags behind the primary, and a page that shows what was just saved must read it
back from where it was saved. ``PrimaryAfterWriteMiddleware`` starts every request unpinned; a write
pins the rest of it to the primary. Celery tasks are pinned from their first write on as well (and
the pin is cleared when a task starts, see ``retail_site.celery``).
"""

from contextvars import ContextVar

from django.db import connections

REPLICA = "replica"
PRIMARY = "default"

_pinned_to_primary: ContextVar[bool] = ContextVar("pinned_to_primary", default=False)


def unpin() -> None:
    _pinned_to_primary.set(False)


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        if _pinned_to_primary.get() or connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return REPLICA

    def db_for_write(self, model, **hints) -> str:
        _pinned_to_primary.set(True)
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # one database seen two ways

    def allow_migrate(self, db: str, app_label: str, model_name=None, **hints) -> bool:
        return db == PRIMARY  # the replica copies the primary's schema


class PrimaryAfterWriteMiddleware:
    """Each request starts reading from the replica; its first write pins it to the primary."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        unpin()
        return self.get_response(request)
