from django.urls import path

from portal.dashboard import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
