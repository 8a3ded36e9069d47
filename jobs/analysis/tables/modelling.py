"""Turning profiled tables into a Cortex Analyst semantic model: dimensions, facts,
metrics, filters, relationships and verified queries, then YAML.

Everything here is a plain function of the profiles, so the same table gives the same
YAML on every run. Every expression is written in Snowflake's SQL (expressions.py), what
Cortex Analyst runs, whatever the source; validating.py reads each one back as the
source's SQL and runs it on the real data.
"""

from __future__ import annotations

from datetime import date

import yaml
from django.db.backends.base.base import BaseDatabaseWrapper

from jobs.analysis.tables import expressions
from jobs.analysis.tables.classification import (
    DIMENSION,
    FACT,
    SNAPSHOT,
    SUM,
    TIME_DIMENSION,
    YEAR,
)
from jobs.analysis.tables.describing import ProfiledTable
from jobs.analysis.tables.naming import (
    humanize,
    logical_name,
    meaning,
    personal_date,
    plural,
    singular,
    snowflake_identifier,
    snowflake_type,
)
from jobs.analysis.tables.profiling import ColumnProfile
from jobs.analysis.tables.relating import Relationship

SAMPLE_VALUES_SHOWN = 5


def _column_entry(connection, table: ProfiledTable, profile: ColumnProfile) -> dict:
    classification = table.classifications[profile.name]
    column = next(c for c in table.schema.columns if c.name == profile.name)
    expr = expressions.column(profile.name)
    data_type = snowflake_type(profile, column.precision, column.scale)
    if classification.date_format:
        expr = expressions.to_date(expr, classification.date_format, profile.category)
        data_type = "DATE"
    entry = {
        "name": logical_name(profile.name),
        "synonyms": table.synonyms.get(profile.name, []),
        "description": table.descriptions.get(profile.name, ""),
        "expr": expr,
        "data_type": data_type,
    }
    if profile.unique:
        entry["unique"] = True
    shown = profile.samples if classification.is_enum else profile.samples[:SAMPLE_VALUES_SHOWN]
    if shown:
        entry["sample_values"] = list(shown)
    if classification.role == DIMENSION and classification.is_enum:
        entry["is_enum"] = True
    return entry


def table_entry(
    connection: BaseDatabaseWrapper, table: ProfiledTable, inferred_key: str | None = None
) -> dict:
    ref = table.schema.ref
    entry: dict = {
        "name": table.name,
        "synonyms": table.synonyms.get("", []),
        "description": table.descriptions.get("", ""),
        "base_table": {
            "database": snowflake_identifier(str(connection.settings_dict["NAME"])),
            "schema": ref.schema,
            "table": ref.table,
        },
    }
    key = table.schema.primary_key or ([inferred_key] if inferred_key else [])
    if key:
        entry["primary_key"] = {"columns": [logical_name(c) for c in key]}
    for role, key in (
        (DIMENSION, "dimensions"),
        (TIME_DIMENSION, "time_dimensions"),
        (FACT, "facts"),
    ):
        columns = table.columns_with_role(role)
        if columns:
            entry[key] = [_column_entry(connection, table, profile) for profile in columns]
    metrics = propose_metrics(table)
    if metrics:
        entry["metrics"] = metrics
    filters = propose_filters(table)
    if filters:
        entry["filters"] = filters
    return entry


def logical_table(table: ProfiledTable) -> str:
    """How verified queries name a table: its logical name after two underscores."""
    return f"__{table.name}"


def count_question(table: ProfiledTable) -> str:
    """ "How many loan applications are there?", or, for a table named by what it is
    about rather than what its rows are ("seattle weather"), "How many rows of seattle
    weather are there?"."""
    noun = humanize(table.schema.ref.table)
    last = noun.split()[-1] if noun else ""
    if last.endswith("s") and not last.endswith(("ss", "us", "is")):
        return f"How many {noun} are there?"
    if table.schema.primary_key:
        # A table of things with a key (Artist, Customer): its rows are artists, customers.
        return f"How many {plural(noun)} are there?"
    return f"How many rows of {noun} are there?"


def has_time(table: ProfiledTable) -> bool:
    years = [p for p in table.columns_with_role(DIMENSION) if YEAR.search(logical_name(p.name))]
    return bool(table.columns_with_role(TIME_DIMENSION) or years)


# Share of a column's rows that must hold a value for it to group a question or a filter.
WELL_FILLED = 0.8
# How many rows a top-N question lists.
TOP = 10
PRICE_WORDS = {"price", "rate", "fee", "cost"}
QUANTITY_WORDS = {"quantity", "units", "count", "volume"}
AMOUNT_WORDS = {"amount", "total", "revenue", "sales", "value", "paid", "payment"}


def _says(profile: ColumnProfile, words: set[str]) -> bool:
    return bool(set(meaning(profile.name)) & words)


def derived_measures(table: ProfiledTable, alias: str = "") -> list[dict]:
    """Metrics computed from two facts of one row, where the data has them: a price times
    a quantity (revenue), and an amount (or that revenue) per unit; their columns
    prefixed with `alias` (for a query that joins)."""
    dot = f"{alias}." if alias else ""
    facts = table.columns_with_role(FACT)
    prices = [p for p in facts if _says(p, PRICE_WORDS) and not _says(p, QUANTITY_WORDS)]
    quantities = [p for p in facts if _says(p, QUANTITY_WORDS) and not _says(p, PRICE_WORDS)]
    amounts = [
        p
        for p in facts
        if _says(p, AMOUNT_WORDS) and p not in quantities and table.classifications[p.name].summable
    ]
    if not quantities:
        return []
    quantity = quantities[0]
    units = f"{dot}{logical_name(quantity.name)}"
    taken = {logical_name(p.name) for p in table.profiles}
    found = []
    if prices:
        price = f"{dot}{logical_name(prices[0].name)}"
        name = (
            "revenue"
            if "revenue" not in taken
            else f"{logical_name(prices[0].name)}_times_{logical_name(quantity.name)}"
        )
        found.append(
            {
                "name": name,
                "synonyms": ["sales", "sales amount", "turnover"],
                "description": (
                    f"Sum of {humanize(prices[0].name)} times {humanize(quantity.name)} "
                    "over rows: what was charged."
                ),
                "expr": f"SUM({price} * {units})",
            }
        )
        found.append(
            {
                "name": f"{name}_per_{singular(logical_name(quantity.name))}",
                "synonyms": [f"average {humanize(prices[0].name)} paid", "revenue per unit"],
                "description": f"Revenue divided by the total {humanize(quantity.name)}.",
                "expr": f"SUM({price} * {units}) / NULLIF(SUM({units}), 0)",
            }
        )
    for amount in amounts[:1]:
        name = logical_name(amount.name)
        found.append(
            {
                "name": f"{name}_per_{singular(logical_name(quantity.name))}",
                "synonyms": [f"{humanize(amount.name)} per {singular(humanize(quantity.name))}"],
                "description": (
                    f"Total {humanize(amount.name)} divided by the total {humanize(quantity.name)}."
                ),
                "expr": f"SUM({dot}{name}) / NULLIF(SUM({units}), 0)",
            }
        )
    return found


def propose_metrics(table: ProfiledTable) -> list[dict]:
    """A count, then for each fact what adds up: SUM for amounts and counts, AVG (and
    MIN, MAX) for levels, rates and coordinates, AVG and MAX for a snapshot in a table
    over time (summing it across time means nothing); then what two facts give together
    (revenue from a price and a quantity). In logical names."""
    key = table.schema.primary_key
    count_target = logical_name(key[0]) if len(key) == 1 else "*"
    metrics = [
        {
            "name": f"{table.name}_count",
            "synonyms": [f"number of {humanize(table.schema.ref.table)}", "row count"],
            "description": f"Number of rows in {table.schema.ref.label}.",
            "expr": f"COUNT({count_target})",
        }
    ]
    over_time = has_time(table)
    for profile in table.columns_with_role(FACT):
        name, label = logical_name(profile.name), humanize(profile.name)
        aggregation = table.classifications[profile.name].aggregation
        proposed = [("average", "AVG", f"Average {label} over rows where it is known.")]
        if aggregation == SUM:
            proposed.insert(0, ("total", "SUM", f"Sum of {label}."))
        elif aggregation == SNAPSHOT and not over_time:
            proposed.insert(0, ("total", "SUM", f"Sum of {label} across rows."))
        elif aggregation == SNAPSHOT:
            proposed.append(("highest", "MAX", f"Highest {label}; sum it only within one period."))
        else:
            proposed += [
                ("lowest", "MIN", f"Lowest {label}."),
                ("highest", "MAX", f"Highest {label}."),
            ]
        synonyms = {"total": "sum of", "average": "mean", "lowest": "minimum", "highest": "maximum"}
        for prefix, function, description in proposed:
            metrics.append(
                {
                    "name": f"{prefix}_{name}",
                    "synonyms": [f"{synonyms[prefix]} {label}", f"{prefix} {label}"],
                    "description": description,
                    "expr": f"{function}({name})",
                }
            )
    taken = {metric["name"] for metric in metrics}
    metrics += [m for m in derived_measures(table) if m["name"] not in taken]
    return metrics


def propose_filters(table: ProfiledTable) -> list[dict]:
    """Useful subsets, in logical names: true flags, known values of a fact often
    missing, the most recent year (or 12 months) in the data, the most frequent
    category."""
    filters = []
    for profile in table.profiles:
        classification = table.classifications[profile.name]
        name, label = logical_name(profile.name), humanize(profile.name)
        if profile.category == "boolean":
            filters.append(
                {
                    "name": f"is_{name}",
                    "synonyms": [label],
                    "description": f"Rows where {label} is true.",
                    "expr": f"{name} = TRUE",
                }
            )
        elif classification.role == FACT and 0.01 <= profile.null_fraction <= 0.5:
            filters.append(
                {
                    "name": f"has_{name}",
                    "synonyms": [f"with {label}", f"{label} known"],
                    "description": (
                        f"Rows where {label} is recorded ({profile.null_fraction:.1%} are not)."
                    ),
                    "expr": f"{name} IS NOT NULL",
                }
            )
    filters += _recent_filters(table) + _frequent_filters(table)
    return filters


def activity_times(table: ProfiledTable) -> list[ColumnProfile]:
    """The time dimensions of the business's activity: not a person's birth date."""
    return [p for p in table.columns_with_role(TIME_DIMENSION) if not personal_date(p.name)]


def well_filled(profile: ColumnProfile) -> bool:
    return profile.row_count > 0 and profile.non_null >= WELL_FILLED * profile.row_count


def _recent_filters(table: ProfiledTable) -> list[dict]:
    for profile in activity_times(table):
        latest = _as_date(profile.max)
        if latest is None or _as_date(profile.min) == latest:
            continue
        since = (
            latest.replace(year=latest.year - 1)
            if (latest.month, latest.day) != (2, 29)
            else (latest.replace(year=latest.year - 1, day=28))
        )
        name, label = logical_name(profile.name), humanize(profile.name)
        return [
            {
                "name": f"last_12_months_of_{name}",
                "synonyms": ["recent", "last year", "past 12 months"],
                "description": (
                    f"Rows whose {label} is in the last 12 months of the data "
                    f"(after {since.isoformat()}, the latest being {latest.isoformat()})."
                ),
                "expr": f"{name} > '{since.isoformat()}'",
            }
        ]
    for profile in table.columns_with_role(DIMENSION):
        name = logical_name(profile.name)
        if YEAR.search(name) and profile.max and profile.min != profile.max:
            latest = int(float(profile.max))
            return [
                {
                    "name": f"latest_{name}",
                    "synonyms": ["most recent year", "latest"],
                    "description": f"Rows of the latest {humanize(profile.name)} in the data.",
                    "expr": f"{name} = {latest}",
                }
            ]
    return []


def _frequent_filters(table: ProfiledTable) -> list[dict]:
    """The most frequent value of the first category whose top value is a real share of
    the rows (a tenth at least, and more than one row), as a subset people ask about;
    never of a column whose values are (nearly) all different, or mostly missing."""
    for profile in table.columns_with_role(DIMENSION):
        classification = table.classifications[profile.name]
        if profile.category != "text" or not classification.is_enum or not profile.sample_counts:
            continue
        if not is_category(profile):
            continue
        top, count = profile.samples[0], profile.sample_counts[0]
        if count < max(2, profile.row_count / 10) or "'" in top:
            continue
        name, label = logical_name(profile.name), humanize(profile.name)
        return [
            {
                "name": f"{name}_{logical_name(top)}",
                "synonyms": [top.lower(), f"{label} {top}".lower()],
                "description": (
                    f"Rows whose {label} is {top}, the most frequent "
                    f"({count / profile.row_count:.0%})."
                ),
                "expr": f"{name} = '{top}'",
            }
        ]
    return []


def _as_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except (TypeError, ValueError):
        return None


def propose_relationships(tables: list[ProfiledTable], found: list[Relationship]) -> list[dict]:
    """Each relationship in logical names: many rows of the left table to one of the
    right (or one to one where the left column is unique too)."""
    names = {table.schema.ref.key: table.name for table in tables}
    entries, taken = [], set()
    for relationship in found:
        left, right = names[relationship.left], names[relationship.right]
        name = f"{left}_to_{right}"
        if name in taken:
            name = f"{left}_{logical_name(relationship.left_column)}_to_{right}"
        taken.add(name)
        entries.append(
            {
                "name": name,
                "left_table": left,
                "right_table": right,
                "relationship_columns": [
                    {
                        "left_column": logical_name(relationship.left_column),
                        "right_column": logical_name(relationship.right_column),
                    }
                ],
                "join_type": "left_outer",
                "relationship_type": "one_to_one" if relationship.one_to_one else "many_to_one",
            }
        )
    return entries


# Contact details: nearly one per customer, never what a business groups by.
CONTACT_WORDS = {"address", "phone", "fax", "email", "mail", "postal", "zip", "street", "url"}


def is_category(profile: ColumnProfile) -> bool:
    """A column worth grouping by: well filled, several values, far fewer than rows, not a
    contact detail."""
    return (
        not set(meaning(profile.name)) & CONTACT_WORDS
        and well_filled(profile)
        and (profile.distinct or 0) >= 2
        and (profile.distinct or 0) <= profile.non_null / 2
        and not profile.primary_key
    )


def categories(table: ProfiledTable, *, enum: bool = True) -> list[ColumnProfile]:
    """The dimensions a question groups by: (enumerated) categories, not keys."""
    return [
        p
        for p in table.columns_with_role(DIMENSION)
        if is_category(p)
        and not p.foreign_key
        and (table.classifications[p.name].is_enum or not enum)
        and not YEAR.search(logical_name(p.name))
    ]


def measure(table: ProfiledTable, alias: str = "") -> tuple[str, str, str]:
    """The table's headline measure: (name, Snowflake aggregate, how a question says
    it): revenue where a price and a quantity give it, else the first summed fact, else
    the first averaged one, else the row count."""
    dot = f"{alias}." if alias else ""
    derived = [m for m in derived_measures(table, alias) if "/" not in m["expr"]]
    if derived:
        return derived[0]["name"], derived[0]["expr"], "the revenue"
    facts = table.columns_with_role(FACT)
    summed = [p for p in facts if table.classifications[p.name].summable]
    if summed:
        name, label = logical_name(summed[0].name), humanize(summed[0].name)
        if label.split()[0] in ("total", "sum"):
            # An invoice's `Total`: "the total", not "the total total".
            return name, f"SUM({dot}{name})", f"the {label}"
        return f"total_{name}", f"SUM({dot}{name})", f"the total {label}"
    if facts:
        name = logical_name(facts[0].name)
        return f"average_{name}", f"AVG({dot}{name})", f"the average {humanize(facts[0].name)}"
    noun = plural(humanize(singular(table.name)))
    return f"{table.name}_count", "COUNT(*)", f"the number of {noun}"


def propose_join_queries(tables: list[ProfiledTable], relationships: list[dict]) -> list[dict]:
    """A question across each relationship: the left table's measure by a category of
    the right table, or for the right table's ten rows with the highest measure when it
    has no category (the top ten artists by revenue)."""
    by_name = {table.name: table for table in tables}
    queries = []
    for relationship in relationships:
        left, right = by_name[relationship["left_table"]], by_name[relationship["right_table"]]
        columns = relationship["relationship_columns"][0]
        grouped = [
            p
            for p in categories(right) + categories(right, enum=False) + _labels(right)
            if logical_name(p.name) != columns["right_column"]
        ]
        if not grouped:
            continue
        dim = grouped[0]
        dim_name = logical_name(dim.name)
        name, aggregate, said = measure(left, "l")
        top = not right.classifications[dim.name].is_enum
        label = f"{_called(columns['left_column'], right)} {humanize(dim.name)}"
        asked = (
            f"Which {TOP} {plural(label)} have the highest {said.removeprefix('the ')}?"
            if top
            else f"What is {said} by {label}?"
        )
        queries.append(
            {
                "name": f"{name}_by_{right.name}_{dim_name}",
                "question": asked,
                "sql": (
                    f"SELECT r.{dim_name}, {aggregate} AS {name} "
                    f"FROM {logical_table(left)} AS l INNER JOIN {logical_table(right)} AS r "
                    f"ON l.{columns['left_column']} = r.{columns['right_column']} "
                    f"GROUP BY r.{dim_name} ORDER BY {name} DESC" + (f" LIMIT {TOP}" if top else "")
                ),
            }
        )
    return queries


def _called(column: str, right: ProfiledTable) -> str:
    """What a question calls the row a column refers to: the role its name gives
    (`support_rep_id`: support rep), else the table's name (`album_id`: album)."""
    said = meaning(column)
    while said and said[-1] in ("identifier", "key", "code", "number"):
        said = said[:-1]
    return " ".join(said) or humanize(singular(right.name))


def _labels(table: ProfiledTable) -> list[ColumnProfile]:
    """Text that names a row (a name, a title), for a top-N list: well filled, not a
    category, mostly different values."""
    return [
        p
        for p in table.columns_with_role(DIMENSION)
        if p.category == "text"
        and well_filled(p)
        and not p.foreign_key
        and set(meaning(p.name)) & {"name", "title", "label", "description"}
    ]


def propose_verified_queries(connection, table: ProfiledTable) -> list[dict]:
    """Questions a business asks of one table, with SQL in its logical names (Cortex
    Analyst reads `FROM __table` and logical columns, never physical ones): how many
    rows, the measure by a well-filled category, the top ten by it, and its trend by
    month over the activity's time dimension. Each is checked by running it with the
    logical names resolved (validating.py)."""
    source = logical_table(table)
    count = f"{table.name}_count"
    queries = [
        {
            "name": count,
            "question": count_question(table),
            "sql": f"SELECT COUNT(*) AS {count} FROM {source}",
        }
    ]
    name, aggregate, said = measure(table)
    enums = categories(table)
    if enums:
        dim = enums[0]
        dim_name = logical_name(dim.name)
        queries.append(
            {
                "name": f"{name}_by_{dim_name}",
                "question": f"What is {said} by {humanize(dim.name)}?",
                "sql": (
                    f"SELECT {dim_name}, {aggregate} AS {name} FROM {source} "
                    f"GROUP BY {dim_name} ORDER BY {name} DESC"
                ),
            }
        )
    many = [p for p in categories(table, enum=False) if p not in enums] + _labels(table)
    if many and name != count:
        dim = many[0]
        dim_name = logical_name(dim.name)
        queries.append(
            {
                "name": f"top_{TOP}_{dim_name}_by_{name}",
                "question": (
                    f"Which {TOP} {plural(humanize(dim.name))} have the highest "
                    f"{said.removeprefix('the ')}?"
                ),
                "sql": (
                    f"SELECT {dim_name}, {aggregate} AS {name} FROM {source} "
                    f"GROUP BY {dim_name} ORDER BY {name} DESC LIMIT {TOP}"
                ),
            }
        )
    times = activity_times(table)
    if times and well_filled(times[0]):
        time_name = logical_name(times[0].name)
        month = expressions.month(time_name)
        queries.append(
            {
                "name": f"{name}_per_month_by_{time_name}",
                "question": f"What is {said} each month, by {humanize(times[0].name)}?",
                "sql": (
                    f"SELECT {month} AS month, {aggregate} AS {name} FROM {source} "
                    f"GROUP BY {month} ORDER BY month"
                ),
            }
        )
    return queries


def row_count_question(query: dict) -> bool:
    """A question answered by one count of rows: "How many X are there?"."""
    sql = query["sql"].upper()
    return "COUNT(*)" in sql and "GROUP BY" not in sql


def balanced(queries: list[dict]) -> list[dict]:
    """The questions with at most a third of them plain row counts (one kept when there
    is nothing else to ask); names made unique."""
    others = [q for q in queries if not row_count_question(q)]
    counts = [q for q in queries if row_count_question(q)]
    allowed = max(len(others) // 2, 0 if others else 1)
    kept_counts = counts[:allowed]
    chosen = [q for q in queries if q in others or q in kept_counts]
    seen: set[str] = set()
    for query in chosen:
        base, n = query["name"], 2
        while query["name"] in seen:
            query["name"], n = f"{base}_{n}", n + 1
        seen.add(query["name"])
    return chosen


def build_model(
    connection: BaseDatabaseWrapper,
    tables: list[ProfiledTable],
    found: list[Relationship],
    chosen: int = 1,
) -> dict:
    """The model of the chosen tables (the first `chosen` of `tables`) and the tables
    their foreign keys reach, joined by the relationships found."""
    picked, related = tables[:chosen], tables[chosen:]
    labels = [t.schema.ref.label for t in picked]
    listed = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"
    reached = (
        f" and {len(related)} related table{'s' if len(related) > 1 else ''}" if related else ""
    )
    # A key a relationship joins on, where the database declares none.
    keys = {
        relationship.right: relationship.right_column
        for relationship in found
        if not any(t.schema.primary_key for t in tables if t.schema.ref.key == relationship.right)
    }
    name = picked[0].name if len(picked) == 1 else "_".join(t.name for t in picked[:3])
    model: dict = {
        "name": f"{name}_model",
        "description": (
            f"Semantic model of {listed}{reached}, generated from a profile of the data."
        ),
        "tables": [
            table_entry(connection, table, keys.get(table.schema.ref.key)) for table in tables
        ],
    }
    relationships = propose_relationships(tables, found)
    if relationships:
        model["relationships"] = relationships
    queries = [query for table in picked for query in propose_verified_queries(connection, table)]
    queries = balanced(queries + propose_join_queries(tables, relationships))
    # The first question a user is shown: one that says something of the business (a
    # measure by a category), rather than a count of rows, where there is one.
    onboarding = next((q for q in queries if not row_count_question(q)), None)
    for query in queries:
        query["verified_by"] = "semantic-model job (checked by running it; review before use)"
        query["use_as_onboarding_question"] = query is (onboarding or queries[0])
    model["verified_queries"] = queries
    return model


def to_yaml(model: dict) -> str:
    return yaml.safe_dump(model, sort_keys=False, allow_unicode=True, width=100)
