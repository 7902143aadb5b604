from django.urls import path

from portal.imports import views

urlpatterns = [
    path("data/", views.data_import, name="data_import"),
]
