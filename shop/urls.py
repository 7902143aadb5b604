from django.urls import path

from shop import views as shop

app_name = "shop"

urlpatterns = [
    path("", shop.home, name="home"),
    path("catalogue/", shop.catalogue, name="catalogue"),
    path("products/<int:product_id>/", shop.product_detail, name="product_detail"),
    path("r/<int:product_id>/", shop.recommendation_click, name="recommendation_click"),
    path("basket/", shop.basket, name="basket"),
    path("basket/add/", shop.basket_add, name="basket_add"),
    path("basket/lines/<int:product_id>/", shop.basket_line_update, name="basket_line_update"),
    path("basket/lines/<int:product_id>/remove/", shop.basket_line_remove_view, name="basket_line_remove"),
    path("basket/order/", shop.basket_order, name="basket_order"),
    path("orders/", shop.order_list, name="order_list"),
    path("orders/<int:order_id>/", shop.order_detail, name="order_detail"),
    path("my-data/", shop.my_data, name="my_data"),
    path("my-data/download/", shop.my_data_download, name="my_data_download"),
    path("my-data/consent/", shop.my_consent, name="my_consent"),
]
