from __future__ import annotations

from django import forms

from jobs.lib.validators import visible_text


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        validators=[visible_text],
        help_text="What the token is for, e.g. “nightly export script”.",
    )
