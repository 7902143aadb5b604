from django.apps import AppConfig


class DemoConfig(AppConfig):
    """``setup_demo``: what ``make run`` does after migrating, across every app."""

    name = "demo"
    verbose_name = "Demo"
