"""Operations pages: the platform's health check and the staff's stats page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from jobs.ops import charts, health, stats


@login_not_required
@never_cache
@require_safe
def health_check(request: HttpRequest) -> JsonResponse:
    """Up or down for anyone (the platform's check); the queue, the clusters and the
    reason for staff or a caller with HEALTH_TOKEN: they tell an outsider too much."""
    result = health.check()
    report = (
        result.report if health.may_see_details(request) else {"status": result.report["status"]}
    )
    return JsonResponse(report, status=200 if result.ok else 503)


@require_GET
def stats_page(request: HttpRequest) -> HttpResponse:
    # Only staff learn that the page exists; others get the same 404 as any unknown URL.
    if not request.user.is_staff:
        raise Http404
    figures = stats.summary()
    chart = charts.hourly_bar_chart(
        figures["per_hour"], title="Jobs created per hour, last 24 hours", chart_id="per-hour"
    )
    return render(request, "ops/stats.html", {**figures, "chart": chart})
