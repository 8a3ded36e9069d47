"""Semantic model: profile a table of a connected database into Cortex Analyst YAML."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.template.defaultfilters import pluralize
from django.urls import reverse

from jobs.analysis.tables import describing, modelling, profiling, validating, warehouse
from jobs.analysis.tables.classification import SKIPPED, classify
from jobs.analysis.tables.describing import ProfiledTable
from jobs.analysis.tables.external import ConnectionFailed
from jobs.analysis.tables.warehouse import TableRef
from jobs.engine.context import JobContext, JobError
from jobs.engine.registry import Download, JobKind, Stage
from jobs.kinds.asking import engine_name, stream_into
from jobs.models import Connection
from jobs.provider import chat as ai


class SemanticModelForm(forms.Form):
    table = forms.ChoiceField(
        label="Table",
        help_text="A table of a connected database. The app's own tables are not offered.",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Checking a submission needs every table the user may choose; showing the empty
        # form does not wait on the user's databases: their tables arrive by htmx
        # (connection_table_choices), appended to the list.
        connections_ = Connection.objects.for_user(user) if user else Connection.objects.none()
        refs = warehouse.list_all_tables(user if self.is_bound else None)
        if not self.is_bound and connections_.exists():
            self.fields["table"].widget.attrs.update(
                {"hx-get": reverse("jobs:connection_tables"), "hx-trigger": "load",
                 "hx-swap": "beforeend"}
            )  # fmt: skip
            # Edit and run again: the job's own table is there at once.
            chosen = self.initial.get("table")
            if chosen and warehouse.connection_id(TableRef.parse(chosen).database) is not None:
                refs.append(TableRef.parse(chosen))
        self.fields["table"].choices = [("", "Choose a table…"), *group(refs, connections_)]

    def to_params(self) -> dict:
        return TableRef.parse(self.cleaned_data["table"]).as_params()

    @staticmethod
    def initial_from(params: dict) -> dict:
        """The form filled in as for a job with these params (Edit and run again)."""
        return {"table": TableRef(params["database"], params["schema"], params["table"]).key}


def group(refs: list[TableRef], connections_) -> list[tuple[str, list[tuple[str, str]]]]:
    """Tables by database and schema: a user's connections by their names."""
    names = {c.key: c.name for c in connections_}
    grouped: dict[str, list[tuple[str, str]]] = {}
    for ref in refs:
        database = names.get(ref.database, ref.database)
        grouped.setdefault(f"{database} · {ref.schema}", []).append((ref.key, ref.label))
    return list(grouped.items())


def connection_table_choices(user) -> tuple[list, list[str]]:
    """The tables of the user's connections, grouped, and a line for each connection that
    did not answer (its name and why)."""
    refs, failures = [], []
    connections_ = list(Connection.objects.for_user(user))
    for connection in connections_:
        try:
            refs += warehouse.connection_tables(connection)
        except ConnectionFailed as exc:
            failures.append(f"{connection.name}: {exc}")
    return group(refs, connections_), failures


STAGES = (
    Stage("reading_schema", "Reading schema", 0.5),
    Stage("profiling", "Profiling columns", 6),
    Stage("sampling", "Sampling values", 3),
    Stage("classifying", "Classifying columns", 0.3),
    Stage("describing", "Writing descriptions", 0.5),
    Stage("proposing", "Proposing metrics and verified queries", 0.3),
    Stage("validating", "Validating", 2),
    Stage("saving", "Saving", 0.2),
)


def run_checks(ctx, connection, statements, *, start: float, until: float) -> list:
    checks = []
    for index, (target, sql) in enumerate(statements):
        ctx.progress(start + (until - start) * index / len(statements), f"Checking {target}")
        checks.append(validating.run_statement(connection, target, sql))
    return checks


def run(ctx: JobContext, params: dict) -> dict:
    try:
        return _model(ctx, params)
    except ConnectionFailed as exc:
        # A user's database that stopped answering may answer again: retried.
        raise JobError(str(exc), retryable=True) from None


def _model(ctx: JobContext, params: dict) -> dict:
    ref = TableRef(params["database"], params["schema"], params["table"])
    ctx.stage("reading_schema", f"Reading the schema of {ref.label}…")
    owner = get_user_model().objects.get(pk=ctx.owner_id)
    if not warehouse.is_available(ref, owner):
        raise JobError(f"The table {ref.label} no longer exists or may not be profiled.")
    main = warehouse.describe_table(ref)
    related = [
        warehouse.describe_table(target)
        for target in sorted(
            {TableRef(ref.database, fk.ref_schema, fk.ref_table) for fk in main.foreign_keys}
        )
        if target != ref and warehouse.is_available(target, owner)
    ]
    schemas = [main, *related]
    ctx.progress(
        1.0,
        f"{len(main.columns)} column{pluralize(len(main.columns))}, "
        f"{len(related)} related table{pluralize(len(related))}.",
    )

    ctx.stage("profiling")
    row_counts = {}
    profiles: dict[TableRef, list[profiling.ColumnProfile]] = {}
    total = sum(len(schema.columns) for schema in schemas)
    done = 0
    for schema in schemas:
        row_counts[schema.ref] = ctx.checkpoint(
            f"rows|{schema.ref.key}", lambda schema=schema: ctx.cpu(profiling.count_rows, schema)
        )
        profiles[schema.ref] = []
        for column in schema.columns:
            ctx.progress(
                done / total,
                f"Profiling {schema.ref.table}.{column.name} ({done + 1} of {total}, "
                f"{row_counts[schema.ref]:,} rows)",
            )
            saved = ctx.checkpoint(
                f"profiled|{schema.ref.key}|{column.name}",
                lambda schema=schema, column=column: ctx.cpu(
                    profiling.profile_column, schema, column, row_counts[schema.ref]
                ).to_dict(),
            )
            profiles[schema.ref].append(profiling.ColumnProfile.from_dict(saved))
            done += 1

    ctx.stage("sampling")
    done = 0
    for schema in schemas:
        for position, profile in enumerate(profiles[schema.ref]):
            ctx.progress(done / total, f"Sampling {schema.ref.table}.{profile.name}")
            saved = ctx.checkpoint(
                f"sampled|{schema.ref.key}|{profile.name}",
                lambda schema=schema, profile=profile: ctx.cpu(sampled, schema, profile),
            )
            profiles[schema.ref][position] = profiling.ColumnProfile.from_dict(saved)
            done += 1

    ctx.stage("classifying")
    tables = []
    for schema in schemas:
        ctx.cpu(profiling.find_codes, schema, profiles[schema.ref])
        classifications = {p.name: classify(p) for p in profiles[schema.ref]}
        kept = [p for p in profiles[schema.ref] if classifications[p.name].role != SKIPPED]
        tables.append(ProfiledTable(schema, row_counts[schema.ref], kept, classifications))
    main_table, related_tables = tables[0], tables[1:]

    ctx.stage("describing")
    described_by_model: list[str] = []
    if ai.configured():
        for index, table in enumerate(tables):
            until = (index + 1) / len(tables)
            answer = ctx.checkpoint(
                f"described|{table.schema.ref.key}",
                lambda table=table, until=until: stream_into(
                    ctx,
                    f"Describing {table.name}",
                    describing.describe_request(table),
                    until=until,
                    # A line of description and synonyms per column.
                    expected=40 * (len(table.profiles) + 1),
                ),
            )
            described_by_model += describing.apply_model_descriptions(table, answer)
    for table in tables:
        describing.fill_descriptions(table)

    ctx.stage("proposing")
    connection = warehouse.connection_for(ref)
    model = modelling.build_model(connection, main_table, related_tables)

    ctx.stage("validating")
    sources = {t.name: warehouse.qualified_name(connection, t.schema.ref) for t in tables}
    checks = validating.validate_names(model)
    columns = validating.column_checks(model, sources)
    checks += run_checks(ctx, connection, columns, start=0.0, until=0.5)
    # Then the metrics, filters and queries, on the logical tables of the columns that work.
    broken = {check.target for check in checks if not check.ok}
    logical = validating.logical_checks(model, sources, broken)
    checks += run_checks(ctx, connection, logical, start=0.5, until=1.0)
    failed = {check.target for check in checks if not check.ok}
    if failed:
        model = validating.drop_failed(model, failed)

    ctx.stage("saving")
    yaml_text = modelling.to_yaml(model)
    return {
        "table": ref.as_params(),
        "yaml": yaml_text,
        "profile": [
            profile_entry(
                table.schema.ref,
                table.row_count,
                profiles[table.schema.ref],
                table.classifications,
            )
            for table in tables
        ],
        "checks": [check.to_dict() for check in checks],
        "descriptions": {
            "engine": engine_name(),
            "described_by_model": described_by_model,
        },
        "summary": {
            "rows": main_table.row_count,
            "columns": len(main.columns),
            "dimensions": len(model["tables"][0].get("dimensions", [])),
            "time_dimensions": len(model["tables"][0].get("time_dimensions", [])),
            "facts": len(model["tables"][0].get("facts", [])),
            "metrics": len(model["tables"][0].get("metrics", [])),
            "checks_passed": sum(check.ok for check in checks),
            "checks_failed": len(failed),
        },
    }


def sampled(schema, profile: profiling.ColumnProfile) -> dict:
    profiling.sample_column(schema, profile)
    return profile.to_dict()


def profile_entry(
    ref: TableRef, row_count: int, profiles: list, classifications: dict | None = None
) -> dict:
    """One table of the profile, each column with the role it got and why."""
    columns = []
    for profile in profiles:
        classification = (classifications or {}).get(profile.name) or classify(profile)
        columns.append(
            {**profile.to_dict(), "role": classification.role, "reasons": classification.reasons}
        )
    return {"table": ref.label, "row_count": row_count, "columns": columns}


def partial(params: dict, saved: dict) -> dict | None:
    """The columns profiled before the job stopped, sampled ones with their samples."""
    tables: dict[str, dict] = {}
    for key, value in saved.items():
        step, _, rest = key.partition("|")
        if step in ("profiled", "sampled"):
            table_key, _, column = rest.partition("|")
            columns = tables.setdefault(table_key, {})
            if step == "sampled" or column not in columns:
                columns[column] = profiling.ColumnProfile.from_dict(value)
    if not tables:
        return None
    return {
        "table": params,
        "profile": [
            profile_entry(
                TableRef.parse(table_key),
                saved.get(f"rows|{table_key}", 0),
                list(columns.values()),
            )
            for table_key, columns in tables.items()
        ],
    }


def _title(params: dict) -> str:
    return f"{params.get('schema', '')}.{params.get('table', '')}"


KIND = JobKind(
    slug="semantic_model",
    label="Semantic model",
    description=(
        "Profile a table of a connected database into semantic-model YAML "
        "(Cortex Analyst format), with the reasons for each column's role."
    ),
    form_class=SemanticModelForm,
    stages=STAGES,
    run=run,
    result_template="jobs/results/semantic_model.html",
    downloads={
        "yaml": Download(".yaml", "application/yaml", lambda result: result["yaml"]),
    },
    title=_title,
    partial=partial,
)
