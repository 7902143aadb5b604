from django.urls import path

from portal.model_versions import views

urlpatterns = [
    path("models/", views.model_list, name="model_list"),
    path("models/train/", views.model_train, name="model_train"),
    path("models/<int:version_id>/activate/", views.model_activate, name="model_activate"),
    path(
        "models/<int:version_id>/new-item-weight/", views.model_new_item_weight, name="model_new_item_weight"
    ),
]
