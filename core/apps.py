from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """What every app shares: background jobs and their progress, bulk COPY writes, prepared reads,
    and the staff roles."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "Background jobs"

    def ready(self) -> None:
        from core.roles import roles_ensure

        # After Django's own post_migrate handlers (permissions) have run for this app.
        post_migrate.connect(roles_ensure, sender=self, dispatch_uid="core.roles_ensure")
