"""The semantic model's result page: its YAML highlighted on the server (Pygments, with
classes that static/css/semantic_model.css colours: no inline style, as the
Content-Security-Policy asks) and the layout of its tables' diagram."""

from __future__ import annotations

import yaml
from django import template
from django.utils.safestring import mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import YamlLexer

from jobs.analysis.tables import diagram

register = template.Library()
# Spans with classes only (noclasses=False), no wrapping <div><pre>: the template has it.
FORMATTER = HtmlFormatter(nowrap=True)


@register.filter
def highlight_yaml(text: str) -> str:
    # Safe to mark: Pygments escapes every token it writes.
    return mark_safe(highlight(text or "", YamlLexer(), FORMATTER))  # noqa: S308


@register.filter
def model_diagram(text: str) -> diagram.Diagram | None:
    try:
        model = yaml.safe_load(text or "")
    except yaml.YAMLError:
        return None
    return diagram.layout(model) if isinstance(model, dict) else None
