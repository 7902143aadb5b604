from django.urls import path

from portal.customers import views

urlpatterns = [
    path("customers/", views.customer_list, name="customer_list"),
    path("customers.csv", views.customer_list_csv, name="customer_list_csv"),
    path("customers/<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:customer_id>/notes/", views.customer_note_add, name="customer_note_add"),
    path(
        "customers/<int:customer_id>/consent/", views.customer_consent_change, name="customer_consent_change"
    ),
    path(
        "customers/<int:customer_id>/data.json", views.customer_data_download, name="customer_data_download"
    ),
    path("customers/<int:customer_id>/erase/", views.customer_erasure, name="customer_erasure"),
]
