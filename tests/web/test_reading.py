"""A document's page as a citation opens it: Markdown formatted, or plain text, a part at a
time, with the cited passage marked; and results whose every quote links there."""

from __future__ import annotations

import html
import itertools
import re

import pytest
from django.urls import reverse

from jobs.engine import running
from jobs.models import Job
from jobs.provider import reading
from tests.factories import demo_documents, make_document, make_job
from tests.fake_openai import fake_openai  # noqa: F401

pytestmark = pytest.mark.django_db
QUESTION = "Does intermittent fasting improve glycaemic control in adults with type 2 diabetes?"
MARKDOWN = (
    "# Trial report\n\nThe **primary outcome** fell by 0.6% (95% CI 0.3 to 0.9).\n"
    "It held at 12 months.\n\n| Arm | n |\n|---|---|\n| Fasting | 40 |\n\n- one item\n- two item\n"
)


def marked(page: str) -> str:
    """The text inside the page's marks, tags and spacing aside."""
    pieces = re.findall(r'<mark[^>]*class="passage"[^>]*>(.*?)</mark>', page, re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", " ".join(pieces))).split())


def words(text: str) -> str:
    return " ".join(re.sub(r"[*#|\-]", " ", text).split())


class TestMarking:
    @pytest.mark.parametrize(
        "quoted",
        [
            "Trial report",
            "primary outcome",
            "fell by 0.6% (95% CI",
            "It held at 12 months.\n\n| Arm",
        ],
    )
    def test_the_mark_holds_the_passage_and_the_markdown_stays_formatted(self, quoted):
        start = MARKDOWN.index(quoted)
        passage = reading.Passage(start, start + len(quoted))
        part = reading.part_of(MARKDOWN, None, passage)

        page = reading.render_part(MARKDOWN, part, passage, formatted=True)

        assert f'<mark id="{passage.anchor}"' in page
        assert words(marked(page)) == words(quoted)
        assert "<h1>" in page and "<strong>" in page and "<table>" in page and "**" not in page
        # Every mark closes inside the element it opened in.
        assert page.count("<mark") == page.count("</mark>")
        assert not re.search(r"<mark[^>]*>[^<]*<(?:/?(?:p|td|th|tr|h1|li|table))", page)

    def test_the_plain_view_shows_the_text_as_written_and_escaped(self):
        text = "Say <b>hi</b> & **bye**."
        passage = reading.Passage(4, 13)
        page = reading.render_part(text, reading.part_of(text, None, passage), passage,
                                   formatted=False)  # fmt: skip

        assert page == (
            'Say <mark id="chars-4-13" class="passage" tabindex="-1">&lt;b&gt;hi&lt;/b&gt;</mark>'
            " &amp; **bye**."
        )

    def test_a_long_text_is_cut_at_blank_lines_and_a_passage_opens_its_part(self):
        text = "".join(f"Paragraph {n} says something about fasting.\n\n" for n in range(5000))
        starts = reading.part_starts(text)
        wanted = text.index("Paragraph 4321 ")
        part = reading.part_of(text, None, reading.Passage(wanted, wanted + 14))

        assert len(starts) > 5 and all(text[s - 2 : s] == "\n\n" for s in starts[1:])
        assert all(b - a <= reading.PART_CHARS * 1.5 for a, b in itertools.pairwise(starts))
        assert part.start <= wanted < part.end
        assert part.number == starts.index(part.start) + 1

    @pytest.mark.parametrize("value", ["", "5", "9-3", "3-3", "0-99999", "a-b", "-1-4", "1-4 "])
    def test_a_highlight_that_names_no_passage_of_the_text_is_none(self, value):
        assert reading.parse_highlight(value, 100) is None or value == "1-4 "


class TestDocumentPage:
    def test_a_citation_link_opens_the_passage_marked(self, alice_client, user):
        document = make_document(user, title="Trial", text=MARKDOWN)
        start = MARKDOWN.index("primary outcome")
        url = reading.passage_url(document.get_absolute_url(), start, start + 15)

        response = alice_client.get(url)
        page = response.content.decode()

        assert url.endswith(f"?highlight={start}-{start + 15}#chars-{start}-{start + 15}")
        assert response.status_code == 200
        assert marked(page) == "primary outcome"
        assert "<strong>" in page and "<table>" in page
        assert "Cited passage: characters" in page

    def test_the_plain_view_keeps_the_mark(self, alice_client, user):
        document = make_document(user, title="Trial", text=MARKDOWN)

        page = alice_client.get(
            document.get_absolute_url(), {"highlight": "2-14", "view": "text"}
        ).content.decode()

        assert '<pre class="document-text"># <mark id="chars-2-14"' in page
        assert marked(page) == "Trial report" and "**primary outcome**" in page
        assert 'href="?highlight=2-14&amp;part=1#chars-2-14">Formatted</a>' in page

    def test_a_passage_beyond_the_text_is_said_and_the_text_shown(self, alice_client, user):
        document = make_document(user, title="Trial", text=MARKDOWN)

        page = alice_client.get(document.get_absolute_url(), {"highlight": "5-99999"})

        assert page.status_code == 200
        assert "That passage is not in this document" in page.content.decode()
        assert "<mark" not in page.content.decode()

    def test_a_long_document_is_shown_a_part_at_a_time(self, alice_client, user):
        text = "".join(f"## Section {n}\n\nResult {n} was 4.{n} mg.\n\n" for n in range(20000))
        document = make_document(user, title="Long", text=text)
        wanted = text.index("Result 15000 ")

        page = alice_client.get(
            document.get_absolute_url(), {"highlight": f"{wanted}-{wanted + 12}"}
        ).content.decode()

        assert len(page) < 3 * reading.PART_CHARS
        assert marked(page) == "Result 15000"
        assert re.search(r"Part (\d+) of (\d+)", page)
        assert "<h2>Section 15000</h2>" in page
        second = alice_client.get(document.get_absolute_url(), {"part": 2}).content.decode()
        assert "Part 2 of" in second and "?part=1" in second and "?part=3" in second

    def test_another_users_document_is_404(self, client, other_user, user):
        document = make_document(user, title="Mine", text=MARKDOWN)
        client.force_login(other_user)

        assert client.get(document.get_absolute_url(), {"highlight": "2-14"}).status_code == 404


def run(job: Job) -> Job:
    running.run_queued_job(str(job.pk))
    job.refresh_from_db()
    return job


def links_to_passages(page: str) -> list[tuple[str, int, int]]:
    return [
        (path, int(start), int(end))
        for path, start, end in re.findall(
            r'href="(/documents/\d+/)\?highlight=(\d+)-(\d+)#chars-\2-\3"', page
        )
    ]


class TestResultsCiteTheirSources:
    def test_every_quote_of_a_review_opens_its_passage(
        self,
        alice_client,
        user,
        fake_openai,  # noqa: F811
    ):
        fake_openai.script.answer = "**Fasting helped** [P1]. Weight fell too [P2]."
        documents = demo_documents(user)
        params = {"question": QUESTION, "document_ids": [d.pk for d in documents],
                  "mode": "precision"}  # fmt: skip
        job = run(make_job(user, kind="review", params=params))
        assert job.status == Job.Status.SUCCEEDED, job.error

        page = alice_client.get(job.get_absolute_url()).content.decode()
        links = links_to_passages(page)
        quotes = page.count('<blockquote class="quote">')

        assert quotes >= 10 and len(links) == quotes
        texts = {d.get_absolute_url(): d.text for d in documents}
        for path, start, end in links:
            opened = alice_client.get(f"{path}?highlight={start}-{end}").content.decode()
            assert words(marked(opened)) == words(texts[path][start:end]), (path, start)
        # Each quote has its Copy button, and the summary one (shown by static/js/copy.js).
        assert page.count('class="copy" data-copy-target="#quote-') == quotes
        assert 'data-copy-target="#rv-summary-text"' in page

    def test_a_deep_dive_of_a_long_document_keeps_its_page_short(self, alice_client, user):
        sections = "".join(
            f"## {n}. Finding number {n}\n\nThe rate was {n}.5 per 1,000 person-years "
            f"(p = 0.0{n % 9 + 1}), see Table {n}.\n\n"
            for n in range(1, 3001)
        )
        document = make_document(user, title="Registry", text=sections)
        params = {"document_id": document.pk, "objective": "How high was the rate?"}
        job = run(make_job(user, kind="deep_dive", params=params))
        assert job.status == Job.Status.SUCCEEDED, job.error
        result = job.result
        assert len(result["sections"]) >= 3000
        assert len(result["key_results"]["numbers_with_units"]) >= 3000

        page = alice_client.get(job.get_absolute_url()).content.decode()

        # The answer first, then the key results, the sections last.
        order = [page.index(f'id="dd-{part}"') for part in ("overview", "results", "sections")]
        assert order == sorted(order)
        assert '<nav class="contents card"' in page
        count = len(result["sections"])
        assert f"({count})" in page and f"200 more sections of {count}<" in page
        # 12 shown and at most 200 behind each fold, whatever the length of the document.
        assert page.count('<a class="chip"') <= 6 * (12 + 200)
        # Fact anchors: three shown, the rest folded behind their count.
        anchors = page[page.index('id="dd-anchors"') : page.index('id="dd-sections"')]
        assert len(result["anchors"]) > 3
        assert f"{len(result['anchors']) - 3} more fact anchors<" in anchors
        assert anchors.count('<blockquote class="quote">') == len(result["anchors"])
        assert len(page) < 600_000
        numbers = result["key_results"]["numbers_with_units"]
        first = numbers[0]
        assert (document.get_absolute_url(), first["start"], first["end"]) in links_to_passages(
            page
        )
        opened = alice_client.get(
            reverse("jobs:document", args=[document.pk]),
            {"highlight": f"{first['start']}-{first['end']}"},
        ).content.decode()
        assert marked(opened) == " ".join(first["text"].split())
