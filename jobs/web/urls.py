from django.urls import path

from jobs.web import views

app_name = "jobs"

urlpatterns = [
    path("jobs/", views.job_list, name="list"),
    path("jobs/new/", views.job_kinds, name="kinds"),
    path("jobs/bulk/", views.job_bulk, name="bulk"),
    path("jobs/new/semantic_model/schemas/", views.table_schemas, name="table_schemas"),
    path("jobs/new/semantic_model/tables/", views.table_list, name="table_list"),
    path("jobs/new/<slug:kind>/", views.job_new, name="new"),
    path("jobs/<uuid:pk>/", views.job_detail, name="detail"),
    path("jobs/<uuid:pk>/status/", views.job_status, name="status"),
    path("jobs/<uuid:pk>/cancel/", views.job_cancel, name="cancel"),
    path("jobs/<uuid:pk>/retry/", views.job_retry, name="retry"),
    path("jobs/<uuid:pk>/rerun/", views.job_rerun, name="rerun"),
    path("jobs/<uuid:pk>/download/<slug:fmt>/", views.job_download, name="download"),
    path(
        "settings/notifications/",
        views.notification_settings,
        name="notification_settings",
    ),
    path("documents/", views.document_list, name="documents"),
    path("documents/upload/", views.document_upload, name="document_upload"),
    path("documents/paste/", views.document_paste, name="document_paste"),
    path("documents/<int:pk>/", views.document_detail, name="document"),
    path("documents/<int:pk>/delete/", views.document_delete, name="document_delete"),
]
