from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from jobs.accounts.urls import account_patterns, auth_patterns

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="jobs:list", permanent=False)),
    path("accounts/", include(auth_patterns)),
    path("accounts/", include((account_patterns, "accounts"))),
    path("admin/", admin.site.urls),
    path("api/", include("jobs.api.urls")),
    path("settings/tokens/", include("jobs.api.page_urls")),
    path("", include("jobs.web.urls")),
    path("", include("jobs.ops.urls")),
]

handler500 = "jobs.web.errors.server_error"
