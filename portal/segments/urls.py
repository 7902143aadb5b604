from django.urls import path

from portal.segments import views

urlpatterns = [
    path("segments/", views.segments, name="segments"),
    path("segments.csv", views.segments_csv, name="segments_csv"),
    path("segments/recompute/", views.segments_recompute, name="segments_recompute"),
]
