"""Model output reaches a page only as sanitized HTML."""

import re

import pytest

from jobs.provider.rendering import markdown_to_html


class TestMarkdown:
    def test_renders_common_markdown(self):
        html = markdown_to_html(
            "## Findings\n\n- **HbA1c** fell\n\n| a | b |\n|---|---|\n| 1 | 2 |"
        )

        assert "<h2>Findings</h2>" in html
        assert "<li><strong>HbA1c</strong> fell</li>" in html
        assert "<td>1</td>" in html

    @pytest.mark.parametrize(
        "hostile",
        [
            "<script>alert(1)</script>",
            '<img src=x onerror="alert(1)">',
            "[click](javascript:alert(1))",
            '<a href="javascript:alert(1)">x</a>',
            "<iframe src=https://evil.example></iframe>",
            '<p style="position:fixed">x</p>',
        ],
    )
    def test_strips_anything_that_could_run(self, hostile):
        html = markdown_to_html(hostile)

        for marker in ("<script", "<img", "<iframe", '<a href="javascript'):
            assert marker not in html
        assert not re.search(r"<[^>]*\b(?:onerror|style)=", html)

    def test_links_are_kept_safe(self):
        html = markdown_to_html("[paper](https://example.org/paper)")

        assert 'href="https://example.org/paper"' in html
        assert 'rel="noopener noreferrer nofollow"' in html
