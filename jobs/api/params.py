"""A submitted `params` object checked by the kind's own form, as the HTML page does.

A form coerces whatever it gets to text, so a nested object would pass as its repr:
each value is first checked to be a plain value, or a list of them where the field takes
several.
"""

from __future__ import annotations

from typing import Any

from django import forms

from jobs.api.errors import ApiError
from jobs.engine.registry import JobKind

SCALARS = (str, int, float)


def validated_params(kind: JobKind, params: dict[str, Any], user) -> dict:
    """The params the engine stores for this job, or ApiError(400) with per-field errors."""
    form = kind.form_class(params, user=user)
    errors = {}
    for name, value in params.items():
        if problem := _type_problem(form, name, value):
            errors[name] = [problem]
    if not errors and not form.is_valid():
        errors = {
            field: [error["message"] for error in field_errors]
            for field, field_errors in form.errors.get_json_data().items()
        }
    if errors:
        raise ApiError(400, _summary(errors), errors=errors)
    return form.to_params()


def _type_problem(form: forms.Form, name: str, value: Any) -> str:
    field = form.fields.get(name)
    if field is None:
        known = ", ".join(form.fields) or "none"
        return f"Unknown parameter; this kind takes: {known}."
    if value is None:
        return ""
    many = isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField)
    if many:
        if not isinstance(value, list) or not all(_plain(item) for item in value):
            return "Expected a list of strings or numbers."
        return ""
    if isinstance(field, forms.BooleanField):
        return "" if isinstance(value, bool) else "Expected true or false."
    return "" if _plain(value) else "Expected a string or a number."


def _plain(value: Any) -> bool:
    return isinstance(value, SCALARS) and not isinstance(value, bool)


def _summary(errors: dict[str, list[str]]) -> str:
    parts = [f"{name}: {' '.join(messages)}" for name, messages in errors.items()]
    return "Invalid params: " + "; ".join(parts)
