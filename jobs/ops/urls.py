from django.urls import path

from jobs.ops import views

urlpatterns = [
    path("health", views.health_check, name="health"),
    path("ops/stats/", views.stats_page, name="ops_stats"),
]
