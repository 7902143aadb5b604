from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: background jobs and their progress, bulk COPY writes, prepared reads."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "Background jobs"
