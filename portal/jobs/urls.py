from django.urls import path

from portal.jobs import views

urlpatterns = [
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/<int:job_id>/", views.job_detail, name="job_detail"),
    path("jobs/<int:job_id>.json", views.job_status_json, name="job_status_json"),
]
