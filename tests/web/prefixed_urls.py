"""The site's URLs under /prefixed/, for a test that swaps the URL configuration."""

from django.urls import include, path

urlpatterns = [path("prefixed/", include("urls"))]
