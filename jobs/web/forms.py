from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator

from jobs.analysis.texts.documents import ACCEPTED_SUFFIXES
from jobs.engine.registry import kind_choices
from jobs.lib.validators import visible_text
from jobs.models import Document, Job, Preferences
from jobs.web.bulk import ACTIONS

# More than a few pages of My jobs at once is not a person ticking boxes.
BULK_MAX = 100


class JobFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=200,
        label="Title",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search titles"}),
    )
    status = forms.ChoiceField(required=False, label="Status")
    kind = forms.ChoiceField(required=False, label="Kind")

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
        if words := self.cleaned_data["q"].split():
            # Every word somewhere in the title, in any order and case.
            for word in words:
                jobs = jobs.filter(title__icontains=word)
        return jobs

    @property
    def narrowed(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in ("q", "status", "kind"))


class UUIDListField(forms.Field):
    """The ids of the jobs ticked in a list (one form value each)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[uuid.UUID]:
        if not value:
            return []
        try:
            return [uuid.UUID(str(item)) for item in value]
        except ValueError:
            raise forms.ValidationError("That is not a job of yours.", code="invalid") from None


class BulkJobsForm(forms.Form):
    action = forms.ChoiceField(choices=list(ACTIONS.items()))
    ids = UUIDListField(error_messages={"required": "Tick at least one job first."})
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_ids(self) -> list[uuid.UUID]:
        ids = self.cleaned_data["ids"]
        if len(ids) > BULK_MAX:
            raise forms.ValidationError(f"At most {BULK_MAX} jobs at once.")
        return ids


ACCEPT = ",".join(sorted(ACCEPTED_SUFFIXES))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        items = list(data) if isinstance(data, list | tuple) and data else [data or None]
        cleaned, errors = [], []
        for item in items:
            try:
                cleaned.append(super().clean(item, initial))
            except forms.ValidationError as exc:
                # In a batch, an error that does not name its file cannot be acted on.
                name = getattr(item, "name", None)
                errors += [f"{name}: {message}" if name else message for message in exc.messages]
        if errors:
            raise forms.ValidationError(errors)
        return cleaned


class DocumentUploadForm(forms.Form):
    files = MultipleFileField(label="Files")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = (
            ".txt, .md, .rst, .html or .pdf; "
            f"up to {settings.DOCUMENT_MAX_FILES_PER_UPLOAD} files of "
            f"{settings.DOCUMENT_MAX_BYTES // 1_048_576} MB each."
        )


class DocumentPasteForm(forms.Form):
    title = forms.CharField(max_length=200, validators=[visible_text])
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}), strip=True, validators=[visible_text]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].validators.append(MaxLengthValidator(settings.DOCUMENT_MAX_PASTE_CHARS))


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = Preferences
        fields = ["email_when_done"]


class DocumentTitleForm(forms.ModelForm):
    class Meta:
        model = Document
        fields = ["title"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].validators.append(visible_text)
