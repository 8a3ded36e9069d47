from django import template
from django.utils.safestring import mark_safe

from jobs.provider.rendering import markdown_to_html

register = template.Library()


@register.filter
def markdown(text: str) -> str:
    # Safe to mark: markdown_to_html sanitizes with nh3 after rendering.
    return mark_safe(markdown_to_html(text))  # noqa: S308
