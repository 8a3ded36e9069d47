from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm, UserCreationForm

from jobs.accounts import throttling
from jobs.lib.validators import visible_text


class NameForm(forms.ModelForm):
    class Meta:
        model = get_user_model()
        fields = ["first_name", "last_name"]


class EmailForm(forms.Form):
    email = forms.EmailField(
        label="New e-mail address",
        max_length=254,
        help_text="We send a link to this address; it becomes yours once you open it.",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self) -> str:
        email = get_user_model().objects.normalize_email(self.cleaned_data["email"])
        if self.user is not None and email.lower() == (self.user.email or "").lower():
            raise forms.ValidationError("This is your address already.")
        return email


class SessionLabelForm(forms.Form):
    label = forms.CharField(
        max_length=60,
        required=False,
        label="Device name",
        validators=[visible_text],
        help_text="A name you recognise, such as “work laptop”. Leave blank to remove it.",
    )


class InvitationAcceptForm(UserCreationForm):
    """The invitee's username and password; the e-mail address comes from the invitation."""

    class Meta(UserCreationForm.Meta):
        fields = ("username",)


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254)
    is_staff = forms.BooleanField(
        required=False,
        label="Staff",
        help_text="May use the admin (and these invitations).",
    )


class QuietPasswordResetForm(PasswordResetForm):
    """Django's form, sending nothing when this server sends no e-mail: the answer looks
    the same either way, so it tells nobody whether an address has an account. Run by the
    worker (jobs/accounts/mailing.py): an account past its limit of e-mails gets none."""

    sent = 0

    def get_users(self, email):
        for user in super().get_users(email):
            if throttling.allow(throttling.account_key("reset", user)):
                yield user

    def send_mail(self, *args, **kwargs) -> None:
        if settings.EMAIL_ENABLED:
            super().send_mail(*args, **kwargs)
            self.sent += 1
