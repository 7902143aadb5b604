from django.urls import path

from portal.inventory import views

# Included under /staff/inventory/ in the "staff" namespace; names start with "inventory".
urlpatterns = [
    path("", views.inventory_overview, name="inventory_overview"),
    path("forecast/", views.inventory_forecast_now, name="inventory_forecast_now"),
    path("reorder/", views.inventory_reorder_list, name="inventory_reorder_list"),
    path("reorder.csv", views.inventory_reorder_csv, name="inventory_reorder_csv"),
    path("products/<str:external_id>/", views.inventory_product, name="inventory_product"),
]
