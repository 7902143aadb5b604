from django.urls import path

from portal.promotions import views

urlpatterns = [
    path("promotions/", views.promotion_list, name="promotion_list"),
    path("promotions/new/", views.promotion_create, name="promotion_create"),
    path("promotions/<int:promotion_id>/", views.promotion_detail, name="promotion_detail"),
    path(
        "promotions/<int:promotion_id>/compute/",
        views.promotion_compute_targets,
        name="promotion_compute_targets",
    ),
    path(
        "promotions/<int:promotion_id>/targets.csv", views.promotion_targets_csv, name="promotion_targets_csv"
    ),
    path(
        "promotions/<int:promotion_id>/results/",
        views.promotion_measure_results,
        name="promotion_measure_results",
    ),
]
