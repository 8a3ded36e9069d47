from django.urls import path

from jobs import ops_views

urlpatterns = [
    path("health", ops_views.health_check, name="health"),
    path("ops/stats/", ops_views.stats_page, name="ops_stats"),
]
