from __future__ import annotations

from django import forms

from jobs.kinds import kind_choices
from jobs.models import Job


class JobFilterForm(forms.Form):
    status = forms.ChoiceField(required=False)
    kind = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "Any status"), *Job.Status.choices]
        self.fields["kind"].choices = [("", "Any kind"), *kind_choices()]

    def filter(self, jobs):
        if not self.is_valid():
            return jobs
        if status := self.cleaned_data["status"]:
            jobs = jobs.filter(status=status)
        if kind := self.cleaned_data["kind"]:
            jobs = jobs.filter(kind=kind)
        return jobs
