"""The staff's stats page and the figures behind it, checked against jobs of known times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from jobs.models import Job
from jobs.ops import charts, stats
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 14, 30, tzinfo=UTC)
S = Job.Status


def job(owner, status=S.SUCCEEDED, *, kind="review", created=None, ran=None, **fields) -> Job:
    """A job created at `created` (default: an hour before NOW) that ran for `ran` seconds."""
    created = created or NOW - timedelta(hours=1)
    if ran is not None:
        fields.update(started_at=created, finished_at=created + timedelta(seconds=ran))
    return Job.objects.create(owner=owner, kind=kind, status=status, created_at=created, **fields)


@pytest.fixture
def owner():
    return make_user("stats-owner")


class TestFigures:
    def test_counts_per_status_and_success_rate(self, owner):
        for status, n in [(S.SUCCEEDED, 6), (S.FAILED, 2), (S.CANCELLED, 3), (S.QUEUED, 1)]:
            for _ in range(n):
                job(owner, status)

        counts = stats.status_counts()

        assert counts == {"queued": 1, "running": 0, "succeeded": 6, "failed": 2, "cancelled": 3}
        assert stats.success_rate(counts) == 6 / 8
        assert stats.success_rate(dict.fromkeys(counts, 0)) is None

    def test_median_and_95th_percentile_per_kind(self, owner):
        for seconds in range(10, 101, 10):
            job(owner, kind="review", ran=seconds)
        job(owner, kind="deep_dive", ran=30)
        # Not counted: failed, or submitted before the window.
        job(owner, S.FAILED, kind="deep_dive", ran=5000)
        job(owner, kind="deep_dive", created=NOW - timedelta(days=31), ran=5000)

        by_kind = {row.kind: row for row in stats.durations_by_kind(NOW)}

        assert set(by_kind) == {"review", "deep_dive"}
        review = by_kind["review"]
        assert review.count == 10
        assert review.median == timedelta(seconds=55)
        assert review.p95 == timedelta(seconds=95.5)
        assert review.label == "Review"
        assert by_kind["deep_dive"].count == 1
        assert by_kind["deep_dive"].median == by_kind["deep_dive"].p95 == timedelta(seconds=30)

    def test_percentiles_match_postgresqls_percentile_cont(self, owner):
        for seconds in [3, 7, 7, 20, 41, 42, 90, 600, 601, 1800, 2]:
            job(owner, kind="review", ran=seconds)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d), "
                "percentile_cont(0.95) WITHIN GROUP (ORDER BY d) FROM ("
                "SELECT EXTRACT(EPOCH FROM finished_at - started_at) AS d FROM jobs_job"
                ") durations"
            )
            median, p95 = cursor.fetchone()

        (review,) = stats.durations_by_kind(NOW)

        assert review.median.total_seconds() == pytest.approx(float(median))
        assert review.p95.total_seconds() == pytest.approx(float(p95))

    def test_the_window_is_bounded_by_count_too(self, owner):
        for seconds in (100, 1, 2, 3):
            job(owner, created=NOW - timedelta(hours=seconds), ran=seconds)

        (row,) = stats.durations_by_kind(NOW, limit=3)

        # The newest three: created 1, 2 and 3 hours ago.
        assert row.count == 3
        assert row.median == timedelta(seconds=2)

    def test_queue_length_and_oldest_queued_age(self, owner):
        job(owner, S.QUEUED, created=NOW - timedelta(minutes=7))
        job(owner, S.QUEUED, created=NOW - timedelta(minutes=2))
        job(owner, S.RUNNING, created=NOW - timedelta(hours=5))

        assert stats.queue_summary(NOW) == {"queued": 2, "oldest_queued_seconds": 420.0}
        Job.objects.filter(status=S.QUEUED).delete()
        assert stats.queue_summary(NOW) == {"queued": 0, "oldest_queued_seconds": None}

    def test_jobs_created_per_hour_over_the_last_24(self, owner):
        at = [
            NOW - timedelta(hours=23, minutes=31),  # yesterday 14:59: before the first hour
            NOW - timedelta(hours=23, minutes=30),  # yesterday 15:00: the first hour
            NOW.replace(hour=12, minute=0),
            NOW.replace(hour=13, minute=59, second=59),
            NOW.replace(minute=5),
            NOW.replace(minute=29),
            NOW + timedelta(hours=1),  # not yet
        ]
        for created in at:
            job(owner, S.QUEUED, created=created)

        buckets = stats.created_per_hour(NOW)

        assert len(buckets) == 24
        assert buckets[0] == (datetime(2026, 3, 9, 15, tzinfo=UTC), 1)
        assert buckets[-1] == (datetime(2026, 3, 10, 14, tzinfo=UTC), 2)
        assert dict(buckets)[datetime(2026, 3, 10, 13, tzinfo=UTC)] == 1
        assert dict(buckets)[datetime(2026, 3, 10, 12, tzinfo=UTC)] == 1
        assert sum(count for _, count in buckets) == 5
        assert [start.hour for start, _ in buckets[:3]] == [15, 16, 17]

    def test_hours_stay_whole_across_a_daylight_saving_change(self, owner):
        now = datetime(2026, 3, 29, 12, 30, tzinfo=UTC)  # Berlin moved 02:00 to 03:00 today
        job(owner, S.QUEUED, created=datetime(2026, 3, 29, 0, 30, tzinfo=UTC))  # 01:30 CET
        job(owner, S.QUEUED, created=datetime(2026, 3, 29, 1, 30, tzinfo=UTC))  # 03:30 CEST

        with timezone.override("Europe/Berlin"):
            buckets = stats.created_per_hour(now)

        starts = [start.astimezone(UTC) for start, _ in buckets]
        assert all(b - a == timedelta(hours=1) for a, b in zip(starts, starts[1:], strict=False))
        assert starts[-1] == datetime(2026, 3, 29, 12, tzinfo=UTC)
        assert [(f"{start:%H}", n) for start, n in buckets if n] == [("01", 1), ("03", 1)]


class TestChart:
    BUCKETS = [(datetime(2026, 3, 10, hour, tzinfo=UTC), count) for hour, count in
               [(10, 0), (11, 4), (12, 1), (13, 2)]]  # fmt: skip

    def test_bars_are_to_scale_with_their_numbers(self):
        svg = charts.hourly_bar_chart(self.BUCKETS, title="Jobs <per> hour")

        heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
        plot = charts.HEIGHT - charts.TOP - charts.BOTTOM
        # The axis tops at 5, the round number above the busiest hour's 4.
        assert heights == pytest.approx([0.0, plot * 4 / 5, plot / 5, plot * 2 / 5], abs=0.05)
        assert re.findall(r'dominant-baseline="middle">(\d+)<', svg) == ["0", "2", "5"]
        assert "<title>11:00–12:00: 4 jobs</title>" in svg
        assert "<title>12:00–13:00: 1 job</title>" in svg

    def test_is_an_accessible_image_with_escaped_text(self):
        svg = charts.hourly_bar_chart(self.BUCKETS, title="Jobs <per> hour", chart_id="c")

        assert svg.startswith("<svg ")
        assert 'role="img" aria-labelledby="c-title c-desc"' in svg
        assert '<title id="c-title">Jobs &lt;per&gt; hour</title>' in svg
        assert "7 jobs in all" in svg and "the busiest hour, 11:00, had 4" in svg

    def test_an_empty_day_draws_flat(self):
        svg = charts.hourly_bar_chart([(b, 0) for b, _ in self.BUCKETS], title="t")

        assert "No jobs were created in this time." in svg
        assert set(re.findall(r'<rect [^>]*height="([\d.]+)"', svg)) == {"0.0"}

    @pytest.mark.parametrize(("value", "top"), [(1, 1), (3, 5), (5, 5), (7, 10), (11, 20)])
    def test_axis_top(self, value, top):
        assert charts.nice_ceiling(value) == top


class TestPage:
    URL = "/ops/stats/"

    def test_staff_see_the_figures_and_the_chart(self, client, owner):
        staff = make_user("staffer", is_staff=True)
        job(owner, created=owner.date_joined, ran=42)
        job(owner, S.FAILED, created=owner.date_joined)
        job(owner, S.QUEUED, created=owner.date_joined)
        client.login(username=staff.username, password=PASSWORD)

        response = client.get(self.URL)

        assert response.status_code == 200
        html = response.content.decode()
        assert '<svg class="chart"' in html
        assert '<title id="per-hour-title">Jobs created per hour, last 24 hours</title>' in html
        assert re.search(r"data-success-rate>\s*50 %", html)
        assert re.search(r"data-queued>1<", html)
        assert '<tr data-kind="review"><th scope="row">Review</th><td>1</td><td>42 s</td>' in html
        # The table under the chart gives every hour's number: the 3 jobs in their hour.
        hour_rows = re.findall(r'<tr><th scope="row">(\d\d):00</th><td>(\d+)</td></tr>', html)
        assert len(hour_rows) == 24
        assert (f"{owner.date_joined:%H}", "3") in hour_rows
        assert sum(int(count) for _, count in hour_rows) == 3

    def test_other_users_get_a_404(self, client):
        user = make_user("curious")
        client.login(username=user.username, password=PASSWORD)

        assert client.get(self.URL).status_code == 404

    def test_anonymous_visitors_are_sent_to_log_in(self, client):
        response = client.get(self.URL)

        assert response.status_code == 302
        assert "/login/" in response["Location"]
