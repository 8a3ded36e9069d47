from django.urls import path

from jobs import views

app_name = "jobs"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("new/", views.job_kinds, name="kinds"),
    path("new/<slug:kind>/", views.job_new, name="new"),
    path("<uuid:pk>/", views.job_detail, name="detail"),
    path("<uuid:pk>/download/<slug:fmt>/", views.job_download, name="download"),
]
