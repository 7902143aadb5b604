from django.urls import include, path

from crm.views import staff

app_name = "staff"

urlpatterns = [
    path("", staff.dashboard, name="dashboard"),
    path("customers/", staff.customer_list, name="customer_list"),
    path("customers.csv", staff.customer_list_csv, name="customer_list_csv"),
    path("customers/<int:customer_id>/", staff.customer_detail, name="customer_detail"),
    path("customers/<int:customer_id>/notes/", staff.customer_note_add, name="customer_note_add"),
    path("segments/", staff.segments, name="segments"),
    path("segments.csv", staff.segments_csv, name="segments_csv"),
    path("segments/recompute/", staff.segments_recompute, name="segments_recompute"),
    path("promotions/", staff.promotion_list, name="promotion_list"),
    path("promotions/new/", staff.promotion_create, name="promotion_create"),
    path("promotions/<int:promotion_id>/", staff.promotion_detail, name="promotion_detail"),
    path(
        "promotions/<int:promotion_id>/compute/",
        staff.promotion_compute_targets,
        name="promotion_compute_targets",
    ),
    path(
        "promotions/<int:promotion_id>/targets.csv", staff.promotion_targets_csv, name="promotion_targets_csv"
    ),
    path(
        "promotions/<int:promotion_id>/results/",
        staff.promotion_measure_results,
        name="promotion_measure_results",
    ),
    path("models/", staff.model_list, name="model_list"),
    path("models/train/", staff.model_train, name="model_train"),
    path("models/<int:version_id>/activate/", staff.model_activate, name="model_activate"),
    path("data/", staff.data_import, name="data_import"),
    path("jobs/", staff.job_list, name="job_list"),
    path("jobs/<int:job_id>/", staff.job_detail, name="job_detail"),
    path("jobs/<int:job_id>.json", staff.job_status_json, name="job_status_json"),
    path("inventory/", include("portal.inventory.urls")),
]
