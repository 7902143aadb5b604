from django.apps import AppConfig


class InventoryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "inventory"
    verbose_name = "Inventory"

    def ready(self) -> None:
        from crm.marketing.stock_outlook import short_product_provider_register
        from inventory.selectors import product_ids_at_risk_before_delivery

        # Promotion targeting leaves out products forecast to run out before they could be restocked
        # (INVENTORY_AVOID_STOCKOUTS); crm cannot import this app, so it asks through this provider.
        short_product_provider_register(product_ids_at_risk_before_delivery)
