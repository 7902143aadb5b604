from django.apps import AppConfig


class ShopConfig(AppConfig):
    """The shoppers' pages."""

    name = "shop"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from crm.services.privacy import retention_hook_register
        from shop.sessions import sessions_expired_delete, shopper_signed_in

        # A visitor's anonymous basket and events join their account when they sign in.
        user_logged_in.connect(shopper_signed_in, dispatch_uid="shop.shopper_signed_in")
        retention_hook_register("sessions", sessions_expired_delete)
