"""Semantic model: profile tables of a connected database into Cortex Analyst YAML."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.template.defaultfilters import pluralize

from jobs.analysis.tables import (
    describing,
    expressions,
    modelling,
    profiling,
    relating,
    validating,
    warehouse,
)
from jobs.analysis.tables.classification import SKIPPED, classify
from jobs.analysis.tables.describing import ProfiledTable
from jobs.analysis.tables.external import ConnectionFailed
from jobs.analysis.tables.warehouse import TableRef
from jobs.engine.context import JobContext, JobError
from jobs.engine.registry import Download, JobKind, Stage
from jobs.kinds.asking import engine_name, stream_into
from jobs.kinds.table_choice import SemanticModelForm, describe, refs_of
from jobs.provider import chat as ai

STAGES = (
    Stage("reading_schema", "Reading schema", 0.5),
    Stage("profiling", "Profiling columns", 6),
    Stage("sampling", "Sampling values", 3),
    Stage("relating", "Finding relationships", 0.5),
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
        # A user's database that stopped answering may answer again: retried. A query
        # stopped at the timeout would be stopped again.
        raise JobError(str(exc), retryable=not exc.timed_out) from None


def _model(ctx: JobContext, params: dict) -> dict:
    refs = refs_of(params)
    ctx.stage("reading_schema", f"Reading the schema of {describe(refs)}…")
    owner = get_user_model().objects.get(pk=ctx.owner_id)
    if missing := warehouse.unavailable(refs, owner):
        labels = ", ".join(ref.label for ref in missing)
        raise JobError(
            f"The table{pluralize(len(missing))} {labels} no longer exist"
            f"{pluralize(len(missing), 's,')} or may not be profiled."
        )
    chosen = [warehouse.describe_table(ref) for ref in refs]
    reached = sorted(
        {
            TableRef(schema.ref.database, fk.ref_schema, fk.ref_table)
            for schema in chosen
            for fk in schema.foreign_keys
        }
        - set(refs)
    )
    gone = set(warehouse.unavailable(reached, owner))
    related = [warehouse.describe_table(ref) for ref in reached if ref not in gone]
    schemas = [*chosen, *related]
    columns = sum(len(schema.columns) for schema in schemas)
    ctx.progress(
        1.0,
        f"{len(schemas)} table{pluralize(len(schemas))} ({len(related)} reached by foreign "
        f"keys), {columns} column{pluralize(columns)}.",
    )

    ctx.stage("profiling")
    row_counts = {}
    profiles: dict[TableRef, list[profiling.ColumnProfile]] = {}
    done = 0
    for schema in schemas:
        row_counts[schema.ref] = ctx.checkpoint(
            f"rows|{schema.ref.key}", lambda schema=schema: ctx.cpu(profiling.count_rows, schema)
        )
        profiles[schema.ref] = []
        for column in schema.columns:
            ctx.progress(
                done / columns,
                f"Profiling {schema.ref.table}.{column.name} ({done + 1} of {columns}, "
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
            ctx.progress(done / columns, f"Sampling {schema.ref.table}.{profile.name}")
            saved = ctx.checkpoint(
                f"sampled|{schema.ref.key}|{profile.name}",
                lambda schema=schema, profile=profile: ctx.cpu(sampled, schema, profile),
            )
            profiles[schema.ref][position] = profiling.ColumnProfile.from_dict(saved)
            done += 1

    ctx.stage("relating")
    relationships, unusable, rejected = find_relationships(ctx, schemas, profiles)

    ctx.stage("classifying")
    tables = []
    for schema in schemas:
        ctx.cpu(profiling.find_codes, schema, profiles[schema.ref])
        classifications = {p.name: classify(p) for p in profiles[schema.ref]}
        kept = [p for p in profiles[schema.ref] if classifications[p.name].role != SKIPPED]
        tables.append(ProfiledTable(schema, row_counts[schema.ref], kept, classifications))

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
    connection = warehouse.connection_for(refs[0])
    model = modelling.build_model(connection, tables, relationships, chosen=len(chosen))

    ctx.stage("validating")
    # Physical names as Snowflake quotes them: the checks are Snowflake SQL, rendered
    # for the source by validating.py.
    sources = {
        t.name: expressions.table(
            None if connection.vendor == "sqlite" else t.schema.ref.schema, t.schema.ref.table
        )
        for t in tables
    }
    checks = validating.validate_names(model)
    columns_checked = validating.column_checks(model, sources)
    checks += run_checks(ctx, connection, columns_checked, start=0.0, until=0.5)
    # Then the metrics, filters and queries, on the logical tables of the columns that work.
    broken = {check.target for check in checks if not check.ok}
    logical = validating.logical_checks(model, sources, broken)
    checks += run_checks(ctx, connection, logical, start=0.5, until=1.0)
    failed = {check.target for check in checks if not check.ok}
    if failed:
        model = validating.drop_failed(model, failed)
        if "verified_queries" in model:
            model["verified_queries"] = modelling.balanced(model["verified_queries"])
    if problems := validating.model_problems(model):
        # Never reached by what modelling.py writes; the last guard before a user gets
        # a model Cortex Analyst would refuse.
        raise JobError(
            "The model would not load in Cortex Analyst: "
            + "; ".join(f"{target}: {reason}" for target, reason in problems[:5])
        )

    ctx.stage("saving")
    kept_names = {r["name"] for r in model.get("relationships", [])}
    entries = modelling.propose_relationships(tables, relationships)
    return {
        "tables": [ref.key for ref in refs],
        "yaml": modelling.to_yaml(model),
        "profile": [
            profile_entry(
                table.schema.ref,
                table.row_count,
                profiles[table.schema.ref],
                table.classifications,
            )
            for table in tables
        ],
        "relationships": [
            relationship_entry(relationship, entry["name"], entry["name"] in kept_names)
            for relationship, entry in zip(relationships, entries, strict=True)
        ]
        + [relationship_entry(relationship) for relationship in unusable + rejected],
        "checks": [check.to_dict() for check in checks],
        "dropped": [
            {"target": check.target, "reason": check.detail} for check in checks if not check.ok
        ],
        "descriptions": {
            "engine": engine_name(),
            "described_by_model": described_by_model,
            "rejected": {
                f"{table.name}.{column}": why
                for table in tables
                for column, why in table.rejected_descriptions.items()
            },
        },
        "summary": summary(model, tables, checks, failed),
    }


def find_relationships(ctx: JobContext, schemas, profiles) -> tuple[list, list]:
    """Declared foreign keys between the tables, then the columns named for another
    table's key, each checked on the values (one query each): the relationships, and the
    candidates turned down (kept for the profile: why two tables were not joined). The
    inferred ones mark their column as a key (a dimension, whatever its type). Returns
    the relationships the model can hold, those it cannot (each with its reason), and the
    candidates turned down."""
    found = relating.declared(schemas, profiles)
    candidates = relating.candidates(schemas, profiles, found)
    checked = []
    for index, (left, column, right, key) in enumerate(candidates):
        ctx.progress(
            index / len(candidates),
            f"Checking {left.ref.table}.{column.name} against {right.ref.table}.{key.name}",
        )
        saved = ctx.checkpoint(
            f"related|{left.ref.key}|{column.name}|{right.ref.key}|{key.name}",
            lambda left=left, column=column, right=right, key=key: ctx.cpu(
                relating.check_overlap, left, column, right, key
            ).to_dict(),
        )
        checked.append(relating.Relationship.from_dict(saved))
    inferred = relating.best(checked)
    for relationship in inferred:
        left = TableRef.parse(relationship.left)
        right = TableRef.parse(relationship.right)
        for profile in profiles[left]:
            if profile.name == relationship.left_column:
                profile.foreign_key = f"{right.label}.{relationship.right_column}"
                profile.foreign_key_inferred = True
    every = [*found, *inferred]
    kept = relating.usable(every, schemas)
    return kept, [r for r in every if r not in kept], [r for r in checked if r not in inferred]


def relationship_entry(relationship, name: str = "", kept: bool = False) -> dict:
    """A relationship (or a candidate turned down) for the profile: its evidence, and
    whether the model has it."""
    return relationship.to_dict() | {
        "name": name,
        "kept": kept,
        "left_label": TableRef.parse(relationship.left).label,
        "right_label": TableRef.parse(relationship.right).label,
    }


def summary(model: dict, tables: list[ProfiledTable], checks: list, failed: set) -> dict:
    def count(key: str) -> int:
        return sum(len(table.get(key, [])) for table in model["tables"])

    return {
        "tables": len(model["tables"]),
        "rows": tables[0].row_count,
        "columns": sum(len(table.schema.columns) for table in tables),
        "dimensions": count("dimensions"),
        "time_dimensions": count("time_dimensions"),
        "facts": count("facts"),
        "metrics": count("metrics"),
        "filters": count("filters"),
        "relationships": len(model.get("relationships", [])),
        "checks_passed": sum(check.ok for check in checks),
        "checks_failed": len(failed),
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
        "tables": [ref.key for ref in refs_of(params)],
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
    try:
        return describe(refs_of(params))
    except (KeyError, ValueError, TypeError, IndexError):
        return ""  # params an admin edited by hand: the job's list still shows


KIND = JobKind(
    slug="semantic_model",
    label="Semantic model",
    description=(
        "Profile one or several tables of a connected database into semantic-model YAML "
        "(Cortex Analyst format), with their relationships and the reasons for each "
        "column's role."
    ),
    form_class=SemanticModelForm,
    form_template="jobs/forms/semantic_model.html",
    stages=STAGES,
    run=run,
    result_template="jobs/results/semantic_model.html",
    downloads={
        "yaml": Download(".yaml", "application/yaml", lambda result: result["yaml"]),
    },
    title=_title,
    partial=partial,
)
