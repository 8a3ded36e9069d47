from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jobs.analysis.texts.documents import DocumentError, extract
from jobs.engine import running
from jobs.models import Document, Job
from tests.factories import PASSWORD, make_user
from tests.pdfs import blank_pdf, pdf_with_text

pytestmark = pytest.mark.django_db
UPLOAD = reverse("jobs:document_upload")
PASTE = reverse("jobs:document_paste")


def upload(client, *files: tuple[str, bytes]):
    """Post the files, then run the job the upload queued, as a worker would."""
    response = client.post(
        UPLOAD, {"files": [SimpleUploadedFile(name, data) for name, data in files]}
    )
    read_uploads()
    return response


def read_uploads() -> None:
    for pk in Job.objects.filter(kind="document_extraction", status=Job.Status.QUEUED).values_list(
        "pk", flat=True
    ):
        running.run_queued_job(str(pk))


class TestExtract:
    def test_text_and_markdown(self):
        assert extract("notes.txt", b"Line one\r\nLine two\n\n\n\nEnd").text == (
            "Line one\nLine two\n\nEnd"
        )
        assert extract("r.md", "# Título\n\nçà".encode()).text == "# Título\n\nçà"

    def test_windows_1252_and_utf16_text(self):
        assert extract("old.txt", "café".encode("cp1252")).text == "café"
        assert extract("wide.txt", "naïve text".encode("utf-16")).text == "naïve text"

    def test_pdf_text_is_extracted_page_by_page(self):
        extracted = extract("paper.pdf", pdf_with_text("Results on page one", "More on two"))

        assert extracted.pages == 2
        assert "Results on page one" in extracted.text and "More on two" in extracted.text

    @pytest.mark.parametrize(
        ("name", "data", "message"),
        [
            ("scan.pdf", blank_pdf(), "no extractable text"),
            ("fake.pdf", b"hello, not a pdf", "not a PDF"),
            ("broken.pdf", b"%PDF-1.4\n garbage", "could not be read"),
            ("image.png", b"\x89PNG\r\n", ".png cannot be read"),
            ("README", b"text", "files without an extension cannot be read"),
            ("empty.txt", b"  \n\n ", "has no text"),
            ("binary.txt", b"\x00\x01\x02text", "binary file"),
        ],
    )
    def test_unusable_files_get_a_clear_error(self, name, data, message):
        with pytest.raises(DocumentError, match=message):
            extract(name, data)


class TestTitles:
    @pytest.mark.parametrize(
        ("text", "title"),
        [
            ("# Fasting and insulin\n\nWe studied 40 adults.", "Fasting and insulin"),
            ("## Methods ##\nWe studied 40 adults.", "Methods"),
            ("Fasting and insulin\n===================\nWe studied 40 adults.",
             "Fasting and insulin"),
            ("Fasting and insulin: a trial\n\nWe studied 40 adults.",
             "Fasting and insulin: a trial"),
            ("We studied 40 adults over twelve weeks.\n\nResults follow.", None),
            ("Dear colleagues,\n\nWe studied 40 adults.", None),
            ("A single line of text", None),
        ],
    )  # fmt: skip
    def test_a_title_from_the_first_heading_when_there_is_one(self, text, title):
        assert extract("notes.md", text.encode()).title == title

    def test_a_pdf_takes_its_metadata_title(self):
        data = pdf_with_text("Methods and results.", title="Insulin after fasting")

        assert extract("scan_0042.pdf", data).title == "Insulin after fasting"

    def test_uploads_are_named_by_their_content_and_renamed_by_their_owner(
        self, alice_client, user
    ):
        upload(alice_client, ("draft_v2.md", b"# Fasting trial\n\nForty adults."))
        document = Document.objects.get(owner=user)
        assert document.title == "Fasting trial"

        renamed = alice_client.post(document.get_absolute_url(), {"title": "Trial, final"})
        invisible = alice_client.post(document.get_absolute_url(), {"title": "\u200b"})

        assert renamed.status_code == 302
        assert invisible.status_code == 400
        document.refresh_from_db()
        assert document.title == "Trial, final"


class TestPages:
    def test_upload_several_files_at_once(self, alice_client, user):
        response = upload(
            alice_client,
            ("fasting_trial.txt", b"A trial of fasting."),
            ("paper.pdf", pdf_with_text("A PDF about insulin")),
        )

        assert response.status_code == 302
        titles = set(Document.objects.for_user(user).values_list("title", flat=True))
        assert titles == {"fasting trial", "paper"}
        pdf = Document.objects.get(filename="paper.pdf")
        assert pdf.pages == 1 and "insulin" in pdf.text and pdf.chars == len(pdf.text)

    def test_a_file_plainly_not_what_it_says_saves_nothing_and_is_named(self, alice_client):
        response = upload(alice_client, ("good.txt", b"fine"), ("scan.pdf", b"not a pdf"))

        assert response.status_code == 400
        assert "scan.pdf: this is not a PDF file." in response.content.decode()
        assert not Document.objects.exists() and not Job.objects.exists()

    def test_a_file_the_worker_cannot_read_is_refused_on_the_page(self, alice_client, user):
        response = upload(alice_client, ("good.txt", b"fine"), ("scan.pdf", blank_pdf()))

        assert response.status_code == 302
        good, scan = (Document.objects.get(filename=name) for name in ("good.txt", "scan.pdf"))
        assert good.status == Document.Status.READY and good.text == "fine"
        assert scan.status == Document.Status.REFUSED and scan.upload is None
        assert scan.error.startswith("scan.pdf: the PDF has no extractable text")
        page = alice_client.get(scan.get_absolute_url()).content.decode()
        listing = alice_client.get(reverse("jobs:documents")).content.decode()
        assert "Refused: scan.pdf: the PDF has no extractable text" in page
        assert "scan.pdf: the PDF has no extractable text" in listing

    def test_size_limit_per_file(self, alice_client, settings):
        settings.DOCUMENT_MAX_BYTES = 1_048_576

        response = upload(alice_client, ("big.txt", b"x" * 1_200_000))

        assert response.status_code == 400
        assert "big.txt: 1.1 MB is over the limit of 1 MB per file." in response.content.decode()
        assert not Document.objects.exists()

    def test_file_count_limit_per_upload(self, alice_client, settings):
        settings.DOCUMENT_MAX_FILES_PER_UPLOAD = 2

        response = upload(alice_client, *[(f"{n}.txt", b"text") for n in range(3)])

        assert "Upload at most 2 files at a time; you chose 3." in response.content.decode()
        assert not Document.objects.exists()

    def test_document_count_and_total_size_limits(self, alice_client, settings):
        settings.DOCUMENT_MAX_COUNT = 1
        assert upload(alice_client, ("one.txt", b"first")).status_code == 302

        response = upload(alice_client, ("two.txt", b"second"))
        assert "You can keep at most 1 documents; you have 1." in response.content.decode()

        settings.DOCUMENT_MAX_COUNT = 10
        settings.DOCUMENT_MAX_TOTAL_CHARS = 8
        response = alice_client.post(PASTE, {"title": "t", "text": "abcdef"})
        assert "may hold at most 8 characters in all; you use 5 and this adds 6" in (
            response.content.decode()
        )
        assert Document.objects.count() == 1

    def test_no_file_chosen(self, alice_client):
        response = alice_client.post(UPLOAD, {})

        assert response.status_code == 400
        assert "This field is required." in response.content.decode()

    def test_paste_text(self, alice_client, user):
        response = alice_client.post(PASTE, {"title": "Notes", "text": "  Some pasted text.  "})

        assert response.status_code == 302
        document = Document.objects.get(owner=user)
        assert (document.title, document.text, document.source) == (
            "Notes",
            "Some pasted text.",
            "paste",
        )

    def test_empty_or_oversized_paste_is_refused(self, alice_client, settings):
        settings.DOCUMENT_MAX_PASTE_CHARS = 10

        empty = alice_client.post(PASTE, {"title": "Empty", "text": "   "})
        large = alice_client.post(PASTE, {"title": "Large", "text": "x" * 11})

        assert empty.status_code == large.status_code == 400
        assert "This field is required." in empty.content.decode()
        assert "at most 10 characters" in large.content.decode()
        assert not Document.objects.exists()

    def test_list_detail_and_delete(self, alice_client, user):
        alice_client.post(PASTE, {"title": "Keep <b>me</b>", "text": "<script>x()</script>"})
        document = Document.objects.get()

        listing = alice_client.get(reverse("jobs:documents")).content.decode()
        detail = alice_client.get(document.get_absolute_url()).content.decode()

        assert "Keep &lt;b&gt;me&lt;/b&gt;" in listing
        assert "&lt;script&gt;x()&lt;/script&gt;" in detail and "<script>x()" not in detail
        response = alice_client.post(reverse("jobs:document_delete", args=[document.pk]))
        assert response.status_code == 302
        assert not Document.objects.exists()

    def test_delete_needs_post(self, alice_client, user):
        alice_client.post(PASTE, {"title": "t", "text": "text"})
        document = Document.objects.get()

        response = alice_client.get(reverse("jobs:document_delete", args=[document.pk]))

        assert response.status_code == 405
        assert Document.objects.exists()


class TestOwnership:
    def test_another_users_documents_are_404_and_not_listed(self, client, user):
        document = Document.objects.create(owner=user, title="Private plan", text="secret")
        intruder = make_user("intruder")
        client.login(username=intruder.username, password=PASSWORD)

        assert client.get(document.get_absolute_url()).status_code == 404
        assert client.post(reverse("jobs:document_delete", args=[document.pk])).status_code == 404
        assert "Private plan" not in client.get(reverse("jobs:documents")).content.decode()
        assert Document.objects.filter(pk=document.pk).exists()

    def test_documents_need_a_login(self, client, user):
        document = Document.objects.create(owner=user, title="t", text="x")

        for url in (reverse("jobs:documents"), document.get_absolute_url()):
            assert client.get(url)["Location"].startswith(reverse("login"))


class TestStructure:
    def test_hard_wrapped_text_is_unwrapped_and_hyphenation_joined(self):
        data = (
            b"The mean, standard error, and worst of these features were computed for\n"
            b"each image, resulting in 30 features. Files are larger than 200 MB and exam-\n"
            b"ples are many.\n\nName: X\nAge: 5\n"
        )

        text = extract("notes.txt", data).text

        assert text.splitlines()[0] == (
            "The mean, standard error, and worst of these features were computed for each "
            "image, resulting in 30 features. Files are larger than 200 MB and examples are many."
        )
        assert "Name: X\nAge: 5" in text

    def test_tables_keep_their_rows(self):
        table = (
            "                 coef    std err          z      P>|z|\n"
            "GPA            2.8261      1.263      2.238      0.025\n"
            "TUCE           0.0952      0.142      0.672      0.501\n"
        )

        assert extract("fit.txt", table.encode()).text == table.strip()

    def test_restructuredtext_gives_headings_lists_and_a_title(self):
        source = (
            "Iris plants dataset\n===================\n\n:Number of Instances: 150\n\n"
            "Summary\n-------\n\nThe data set contains 3 classes of 50 instances each,\n"
            "where each class refers to a type of iris plant.\n"
        )

        extracted = extract("iris.rst", source.encode())

        assert extracted.title == "Iris plants dataset"
        assert "- Number of Instances: 150" in extracted.text
        assert "## Summary" in extracted.text
        assert (
            "The data set contains 3 classes of 50 instances each, where each class refers to "
            "a type of iris plant." in extracted.text
        )

    def test_html_loses_its_furniture_and_keeps_its_tables(self):
        page = (
            "<html><head><title>Rates</title><script>var x = 1;</script></head><body>"
            "<nav>Home | Cross-sectional dataset viewer</nav><main><h1>Rates</h1>"
            "<p>The rate fell\nby 4 per cent.</p><table><tr><th>Year</th><th>Rate</th></tr>"
            "<tr><td>2020</td><td>4.1</td></tr></table></main><footer>Contact</footer></body>"
            "</html>"
        )

        extracted = extract("rates.html", page.encode())

        assert extracted.title == "Rates"
        assert "The rate fell by 4 per cent." in extracted.text
        assert "| 2020 | 4.1 |" in extracted.text
        assert "viewer" not in extracted.text and "var x" not in extracted.text

    @pytest.mark.parametrize(
        "data",
        [
            bytes(range(1, 256)) * 20,  # binary with no NUL byte at all
            b"A" * 5000 + b"\x00" + b"B" * 10,  # a NUL past the first 4 KiB
            b"PK\x03\x04" + b"word " * 100,  # a zip archive renamed .txt
        ],
    )
    def test_binary_data_is_never_read_as_text(self, data):
        with pytest.raises(DocumentError, match="notes.txt: this looks like a binary file"):
            extract("notes.txt", data)

    def test_an_empty_file_in_a_batch_is_named(self, alice_client):
        response = upload(alice_client, ("good.txt", b"Some words."), ("blank.txt", b""))

        assert response.status_code == 400
        assert "blank.txt: The submitted file is empty." in response.content.decode()
