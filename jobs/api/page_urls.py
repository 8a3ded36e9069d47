"""The HTML pages of the API: where users make and revoke their tokens (/settings/tokens/)."""

from django.urls import path

from jobs.api import pages

urlpatterns = [
    path("", pages.token_settings, name="api_tokens"),
    path("<int:pk>/revoke/", pages.token_revoke, name="api_token_revoke"),
]
