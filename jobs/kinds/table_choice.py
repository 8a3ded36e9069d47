"""Choosing what a semantic model covers: a database the user may use, one of its
schemas, then one or several tables. Each list is a quick answer from the catalog (row
estimates, no counting on a server database), so the page never waits on profiling."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django import forms
from django.template.defaultfilters import pluralize

from jobs.analysis.tables import warehouse
from jobs.analysis.tables.external import ConnectionFailed
from jobs.analysis.tables.warehouse import TableRef

# More than this in one model is more than a person asking questions can keep in mind.
MAX_TABLES = 20


def refs_of(params: dict) -> list[TableRef]:
    """The tables a job's params name: `tables` (keys), or the one table that jobs
    submitted before models took several were stored with."""
    if "tables" in params:
        return [TableRef.parse(key) for key in params["tables"]]
    return [TableRef(params["database"], params["schema"], params["table"])]


@dataclass
class Browser:
    """What the chooser shows: the databases, then the chosen one's schemas, then the
    chosen schema's tables (with `rows` estimates), and a line when a database did not
    answer."""

    databases: list[tuple[str, str]]
    database: str = ""
    schemas: list[str] | None = None
    schema: str = ""
    tables: list[TableRef] | None = None
    chosen: list[str] = field(default_factory=list)
    failure: str = ""

    @property
    def chosen_elsewhere(self) -> list[str]:
        """Chosen tables of the same database not in the listed schema (kept as chosen)."""
        listed = {ref.key for ref in self.tables or []}
        return [
            key for key in self.chosen if key not in listed and key.startswith(f"{self.database}:")
        ]


def browse(user, database: str = "", schema: str = "", chosen=()) -> Browser:
    """The chooser at a database and schema. A database the user may not use:
    LookupError (a 404 for its own requests)."""
    browser = Browser(warehouse.databases_for(user), database, chosen=list(chosen))
    if not database:
        return browser
    names = dict(browser.databases)
    try:
        browser.schemas = warehouse.schemas_in(database, user)
        if not schema and len(browser.schemas) == 1:
            schema = browser.schemas[0]
        if schema:
            browser.schema = schema
            browser.tables = warehouse.tables_in(database, user, schema)
    except ConnectionFailed as exc:
        browser.failure = f"{names.get(database, database)}: {exc}"
    return browser


class TableKeysField(forms.MultipleChoiceField):
    """Table keys, checked against the catalog by the form rather than against a list of
    choices: listing every table of every database would connect to each of them."""

    def valid_value(self, value) -> bool:
        return True


class SemanticModelForm(forms.Form):
    tables = TableKeysField(
        label="Tables",
        required=False,
        help_text=(
            "One or several tables of one database; the tables their foreign keys point "
            "to are modelled too. The app's own tables are not offered."
        ),
    )
    table = forms.CharField(
        required=False,
        widget=forms.HiddenInput,
        help_text="One table's key: the older spelling of `tables`.",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        field_name = "table" if data.get("table") and not data.get("tables") else "tables"
        given = [*data.get("tables", []), *([data["table"]] if data.get("table") else [])]
        keys = list(dict.fromkeys(given))
        if not keys:
            self.add_error("tables", "Choose at least one table.")
            return data
        if len(keys) > MAX_TABLES:
            self.add_error(field_name, f"Choose at most {MAX_TABLES} tables for one model.")
            return data
        refs = []
        for key in keys:
            try:
                refs.append(TableRef.parse(key))
            except ValueError:
                self.add_error(field_name, invalid_choice(key))
        if len(refs) < len(keys):
            return data
        if len({ref.database for ref in refs}) > 1:
            self.add_error(field_name, "The tables of one model come from one database.")
            return data
        try:
            missing = warehouse.unavailable(refs, self.user)
        except ConnectionFailed as exc:
            self.add_error(field_name, str(exc))
            return data
        for ref in missing:
            self.add_error(field_name, invalid_choice(ref.key))
        data["refs"] = refs
        return data

    def to_params(self) -> dict:
        return {"tables": [ref.key for ref in self.cleaned_data["refs"]]}

    @staticmethod
    def initial_from(params: dict) -> dict:
        """The form filled in as for a job with these params (Edit and run again)."""
        refs = refs_of(params)
        return {
            "tables": [ref.key for ref in refs],
            "database": refs[0].database,
            "schema": refs[0].schema,
        }

    @cached_property
    def browser(self) -> Browser:
        """The chooser where the user left it: at the tables submitted (a form sent back
        with an error), else at the database and schema asked for (`?database=`)."""
        if self.is_bound:
            chosen = [*self.data.getlist("tables")] if hasattr(self.data, "getlist") else []
        else:
            chosen = list(self.initial.get("tables", []))
        first = next((ref for key in chosen if (ref := _parsed(key))), None)
        if first:
            database, schema = first.database, first.schema
        else:
            database, schema = self.initial.get("database", ""), self.initial.get("schema", "")
        try:
            return browse(self.user, database, schema, chosen)
        except LookupError:
            return browse(self.user, chosen=chosen)


def invalid_choice(key: str) -> str:
    return f"Select a valid choice. {key[:200]} is not one of the available choices."


def _parsed(key: str) -> TableRef | None:
    try:
        return TableRef.parse(key)
    except ValueError:
        return None


def describe(refs: list[TableRef]) -> str:
    """ "demo.orders", or "demo.orders and 2 more tables"."""
    more = len(refs) - 1
    return refs[0].label + (f" and {more} more table{pluralize(more)}" if more else "")
