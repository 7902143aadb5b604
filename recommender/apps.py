from django.apps import AppConfig


class RecommenderConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "recommender"

    def ready(self) -> None:
        from crm.marketing.purchase_model import purchase_probability_provider_register
        from recommender.services.scoring import purchase_probabilities

        # Promotion targeting scores customers with the served model (crm cannot import this app).
        purchase_probability_provider_register(purchase_probabilities)
        # crm never imports the recommender: the recommender tells crm how to erase, retain and
        # export what it keeps about customers.
        from crm.selectors.privacy import data_export_section_register
        from crm.services.privacy import erasure_hook_register, retention_hook_register
        from recommender.services import privacy

        erasure_hook_register("recommender", privacy.artifacts_forget_customers)
        retention_hook_register("recommender", privacy.artifacts_retention)
        data_export_section_register("recommendations", privacy.recommendations_for_data_export)
