from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from jobs.api import views as api_views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="jobs:list", permanent=False)),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("jobs.api.urls")),
    path("settings/tokens/", api_views.token_settings, name="api_tokens"),
    path("settings/tokens/<int:pk>/revoke/", api_views.token_revoke, name="api_token_revoke"),
    path("", include("jobs.urls")),
    path("", include("jobs.ops_urls")),
]

handler500 = "jobs.errors.server_error"
