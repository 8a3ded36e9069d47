from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="jobs:list", permanent=False)),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("jobs.api.urls")),
    path("settings/tokens/", include("jobs.api.page_urls")),
    path("", include("jobs.web.urls")),
    path("", include("jobs.ops.urls")),
]

handler500 = "jobs.web.errors.server_error"
