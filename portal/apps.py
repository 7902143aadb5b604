from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The staff portal: one package per area (its views, forms and urls), over crm and recommender."""

    name = "portal"
    verbose_name = "Staff portal"
