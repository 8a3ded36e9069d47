"""The minimal poll app's one view: a logged-in owner's job status, 404 for anyone else."""

from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path


def job_status(request: HttpRequest, pk) -> HttpResponse:
    if not request.user.is_authenticated:  # the session, then the user: two queries
        raise Http404("No such job.")
    with connection.cursor() as cursor:  # the job, the owner's only: the third
        cursor.execute(
            "SELECT status, stage, progress, message FROM jobs_job WHERE id = %s AND owner_id = %s",
            [pk, request.user.id],
        )
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such job.")
    status, stage, progress, message = row
    context = {
        "pk": pk,
        "status": status,
        "stage": stage,
        "percent": round(max(0.0, min(1.0, progress)) * 100),
        "message": message,
        "active": status in ("queued", "running"),
    }
    return render(request, "status.html", context)


urlpatterns = [path("jobs/<uuid:pk>/", job_status)]
