"""Staff add, test and remove connections to users' databases, and choose who may use
them. The URL is write-only: checked on save, stored encrypted, never shown back."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from jobs.analysis.tables import connections, external
from jobs.models import Connection


class ConnectionForm(forms.ModelForm):
    url = forms.CharField(
        label="Database URL",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=(
            "postgresql://user:password@host:5432/db, mysql://… (MySQL, MariaDB) or "
            "sqlite:////path/to/file.db. Checked by connecting, stored encrypted, never "
            "shown again; leave empty to keep the current one."
        ),
    )

    class Meta:
        model = Connection
        fields = ["name", "url", "users", "groups"]

    def clean(self):
        cleaned = super().clean()
        url = cleaned.get("url", "").strip()
        if not url and not self.instance.pk:
            self.add_error("url", "A new connection needs its database URL.")
        elif url:
            try:
                cleaned["check_message"] = external.check(url, cleaned.get("name"))
            except connections.ConnectionFailed as exc:
                self.add_error("url", str(exc))
        return cleaned

    def save(self, commit=True):
        if url := self.cleaned_data.get("url", "").strip():
            connections.set_url(self.instance, url)
            self.instance.test_ok, self.instance.test_message = (
                True,
                self.cleaned_data["check_message"],
            )
        return super().save(commit)


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    list_display = [
        "name", "location", "vendor", "url_options", "who", "test_ok", "tested_at", "test_message",
    ]  # fmt: skip
    readonly_fields = [
        "vendor", "location", "url_options", "created_at", "tested_at", "test_ok", "test_message",
    ]  # fmt: skip
    filter_horizontal = ["users", "groups"]
    search_fields = ["name", "location"]
    actions = ["test_connections"]

    @admin.display(description="may use it")
    def who(self, connection: Connection) -> str:
        users, groups = connection.users.count(), connection.groups.count()
        return f"{users} user{'s' * (users != 1)}, {groups} group{'s' * (groups != 1)}"

    @admin.display(description="URL options")
    def url_options(self, connection: Connection) -> str:
        """The options of the stored URL (only the ones its dialect allows get stored):
        names and values, never the credentials."""
        try:
            found = external.options(connections.url_of(connection))
        except connections.ConnectionFailed as exc:
            return str(exc)
        return ", ".join(f"{name}={value}" for name, value in sorted(found.items())) or "none"

    @admin.action(description="Test the selected connections")
    def test_connections(self, request, queryset):
        for connection in queryset:
            ok = connections.retest(connection)
            level = messages.SUCCESS if ok else messages.ERROR
            self.message_user(request, f"{connection.name}: {connection.test_message}", level)
