from django.apps import AppConfig


class CrmConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "crm"
    verbose_name = "CRM"

    def ready(self) -> None:
        from crm.selectors.baskets import basket_list_for_data_export
        from crm.selectors.privacy import data_export_section_register
        from crm.services.baskets import baskets_retention
        from crm.services.privacy import retention_hook_register

        # Baskets are the shopper's data too: in their export, and anonymous ones deleted when stale.
        data_export_section_register("baskets", basket_list_for_data_export)
        retention_hook_register("baskets", baskets_retention)
