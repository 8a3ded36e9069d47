from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator

from jobs.kinds import kind_choices
from jobs.models import Document, Job, Preferences


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


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".txt,.md,.pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple) and data:
            return [single(item, initial) for item in data]
        return [single(data or None, initial)]


class DocumentUploadForm(forms.Form):
    files = MultipleFileField(label="Files")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = (
            f".txt, .md or .pdf; up to {settings.DOCUMENT_MAX_FILES_PER_UPLOAD} files of "
            f"{settings.DOCUMENT_MAX_BYTES // 1_048_576} MB each."
        )


class DocumentPasteForm(forms.Form):
    title = forms.CharField(max_length=200)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), strip=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].validators.append(MaxLengthValidator(settings.DOCUMENT_MAX_PASTE_CHARS))


class DocumentChoiceMixin:
    """Offers only the user's own documents, so another user's can never be chosen."""

    def documents_for(self, user):
        return Document.objects.for_user(user).defer("text").order_by("title", "pk")


class ReviewForm(DocumentChoiceMixin, forms.Form):
    question = forms.CharField(
        label="Question or objective",
        min_length=5,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    documents = forms.ModelMultipleChoiceField(
        queryset=Document.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    mode = forms.ChoiceField(
        choices=[
            ("precision", "Precision: fewer documents, analysed in depth"),
            ("recall", "Recall: more documents"),
        ],
        initial="precision",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = self.documents_for(user)

    def clean_documents(self):
        chosen = self.cleaned_data["documents"]
        if len(chosen) > settings.REVIEW_MAX_DOCUMENTS:
            raise forms.ValidationError(
                f"Choose at most {settings.REVIEW_MAX_DOCUMENTS} documents; "
                f"you chose {len(chosen)}."
            )
        return chosen

    def to_params(self) -> dict:
        return {
            "question": self.cleaned_data["question"],
            "document_ids": sorted(doc.pk for doc in self.cleaned_data["documents"]),
            "mode": self.cleaned_data["mode"],
        }


class DeepDiveForm(DocumentChoiceMixin, forms.Form):
    document = forms.ModelChoiceField(queryset=Document.objects.none())
    objective = forms.CharField(
        min_length=5, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].queryset = self.documents_for(user)

    def to_params(self) -> dict:
        return {
            "document_id": self.cleaned_data["document"].pk,
            "objective": self.cleaned_data["objective"],
        }


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = Preferences
        fields = ["email_when_done"]
