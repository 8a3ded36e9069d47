from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator

from jobs.analysis.texts.documents import ACCEPTED_SUFFIXES
from jobs.engine.registry import kind_choices
from jobs.lib.validators import visible_text
from jobs.models import Document, Job, Preferences


class JobFilterForm(forms.Form):
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
        return jobs


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
