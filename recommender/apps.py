from django.apps import AppConfig


class RecommenderConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "recommender"

    def ready(self) -> None:
        from crm.marketing.purchase_model import purchase_probability_provider_register
        from recommender.services.scoring import purchase_probabilities

        # Promotion targeting scores customers with the served model (crm cannot import this app).
        purchase_probability_provider_register(purchase_probabilities)
