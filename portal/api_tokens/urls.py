from django.urls import path

from portal.api_tokens import views

urlpatterns = [
    path("api-tokens/", views.api_tokens_own, name="api_tokens"),
    path("api-tokens/revoke/", views.api_token_revoke_own, name="api_token_revoke"),
    path("api-tokens/revoke-all/", views.api_tokens_revoke_own, name="api_tokens_revoke"),
    path("api-tokens/all/", views.api_tokens_all, name="api_tokens_all"),
    path("api-tokens/all/revoke/", views.api_token_revoke_any, name="api_token_revoke_any"),
    path("api-tokens/all/revoke-login/", views.api_tokens_revoke_login, name="api_tokens_revoke_login"),
]
