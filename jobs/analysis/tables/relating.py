"""How the tables of one model join: the foreign keys a database declares, and, between
tables with none declared, a column named for another table's key whose values are
found in that key. Each relationship keeps its evidence for the profile.

Names alone guess wrong (a `status_code` is not a key of `status_reports`) and values
alone guess wrong (small whole numbers overlap every id column), so an inferred
relationship needs both: a name that points at the table and its key (or names a role a
person plays, `manager_id`, `SupportRepId`, `ReportsTo`, pointing at a people table or
its own), and nearly every distinct value found there. A key is a column unique in its
table and key-like by type or name: free text (an address, a name) never joins.

Cortex Analyst joins a table on its primary key and never to itself, so `usable` keeps
the relationships it accepts and gives every other one, declared or inferred, a reason.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from jobs.analysis.tables.naming import logical_name, singular
from jobs.analysis.tables.profiling import ColumnProfile
from jobs.analysis.tables.warehouse import (
    TableRef,
    TableSchema,
    connection_for,
    qualified_name,
    quote,
)

# Share of a column's distinct values that must be found in the key it is named for.
OVERLAP_NEEDED = 0.95
# Key names that say nothing of the table they identify: `id` alone names no table.
GENERIC_KEYS = {"id", "key", "code", "no", "nbr", "num", "number", "uuid", "pk", "name"}
NUMBERS = {"integer", "decimal"}
# The last word of a text column that identifies rows (a code, a key), not free text.
IDENTIFIER_WORDS = {"id", "key", "code", "uuid", "guid", "sku", "no", "nbr", "num", "number", "pk"}
# Words naming a role a person (or a row of the same table) plays for a row.
ROLE_WORDS = {
    "manager", "mgr", "rep", "representative", "parent", "owner", "supervisor", "boss",
    "reports", "lead", "agent", "assignee", "assigned", "creator", "created", "author",
    "approver", "approved", "sponsor", "referrer", "referred", "mentor", "head", "salesperson",
}  # fmt: skip
# The roles a row plays for another row of its own table (an employee's manager).
SELF_ROLES = {
    "manager", "mgr", "parent", "supervisor", "boss", "reports", "head", "mentor", "referrer",
    "referred", "lead",
}  # fmt: skip
# What a table of people is called.
PEOPLE = {
    "employee", "employees", "staff", "user", "users", "person", "people", "persons", "member",
    "members", "agent", "agents", "rep", "reps", "manager", "managers", "worker", "workers",
    "salesperson", "salespeople",
}  # fmt: skip
WAREHOUSE_MARKS = re.compile(r"^(dim|fact|fct|tbl|d|f|t)_|_(dim|fact|table|tbl)$")


@dataclass
class Relationship:
    left: str  # table key (TableRef.key)
    left_column: str
    right: str
    right_column: str
    declared: bool
    one_to_one: bool
    evidence: str
    distinct: int | None = None
    found: int | None = None
    # Why the model does not use it, when it does not (empty: used).
    unusable: str = ""

    @property
    def accepted(self) -> bool:
        if self.declared:
            return True
        return bool(self.distinct) and (self.found or 0) / self.distinct >= OVERLAP_NEEDED

    @property
    def self_reference(self) -> bool:
        return self.left == self.right

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Relationship:
        return cls(**data)


def declared(schemas: list[TableSchema], profiles: dict[TableRef, list[ColumnProfile]]):
    """The foreign keys of the model's tables, as the database declares them; one to a
    table outside the model says so (kept for the profile, never silently dropped)."""
    by_place = {(s.ref.schema, s.ref.table): s.ref for s in schemas}
    found = []
    for schema in schemas:
        for fk in schema.foreign_keys:
            target = by_place.get((fk.ref_schema, fk.ref_table))
            profile = _profile(profiles[schema.ref], fk.column)
            outside = TableRef(schema.ref.database, fk.ref_schema, fk.ref_table)
            found.append(
                Relationship(
                    left=schema.ref.key,
                    left_column=fk.column,
                    right=(target or outside).key,
                    right_column=fk.ref_column,
                    declared=True,
                    one_to_one=bool(profile and profile.unique),
                    evidence=f"declared foreign key to {outside.label}.{fk.ref_column}",
                    unusable=(
                        "" if target else f"{outside.label} is not among the modelled tables"
                    ),
                )
            )
    return found


def candidates(
    schemas: list[TableSchema],
    profiles: dict[TableRef, list[ColumnProfile]],
    known: list[Relationship],
) -> list[tuple[TableSchema, ColumnProfile, TableSchema, ColumnProfile]]:
    """Columns named for another table's key, between tables with no declared link:
    (left table, its column, right table, the key), each to be checked on the values."""
    linked = {frozenset((r.left, r.right)) for r in known}
    declared_columns = {(r.left, r.left_column) for r in known}
    found = []
    for left in schemas:
        for right in schemas:
            if frozenset((left.ref.key, right.ref.key)) in linked:
                continue
            for key in keys_of(right, profiles[right.ref]):
                for column in profiles[left.ref]:
                    if (left.ref.key, column.name) in declared_columns or column is key:
                        continue
                    if not (_comparable(column, key) and _may_join(column)):
                        continue
                    named = left is not right and named_for(column.name, right.ref.table, key)
                    if named or role_for(column.name, left.ref.table, right.ref.table):
                        found.append((left, column, right, key))
    return found


def keys_of(schema: TableSchema, profiles: list[ColumnProfile]) -> list[ColumnProfile]:
    """What rows of a table are known by: its one-column primary key, else any column
    whose values are all there and all different."""
    if len(schema.primary_key) == 1:
        key = _profile(profiles, schema.primary_key[0])
        return [key] if key else []
    if schema.primary_key:
        return []
    return [p for p in profiles if p.unique and key_like(p)]


def key_like(profile: ColumnProfile) -> bool:
    """Whole numbers, or text whose name says it identifies (a code, a key, an id)."""
    if profile.category == "integer":
        return True
    return profile.category == "text" and identifier_named(profile.name)


def identifier_named(name: str) -> bool:
    return logical_name(name).split("_")[-1] in IDENTIFIER_WORDS


def role_for(column: str, table: str, target: str) -> str | None:
    """The role a column's name gives a person or a row that it refers to: `manager_id`,
    `SupportRepId`, `ReportsTo`, `parent_id`, when the target is a people table or the
    column's own table; None otherwise."""
    words = logical_name(column).split("_")
    roles = [word for word in words if word in ROLE_WORDS]
    if not roles:
        return None
    if target == table:
        return next((role for role in roles if role in SELF_ROLES), None)
    people = {singular(w) for w in logical_name(target).split("_")} & {singular(p) for p in PEOPLE}
    return roles[0] if people else None


def named_for(column: str, table: str, key: ColumnProfile) -> bool:
    """Whether a column's name points at a table's key: `customer_id` or `cust_id` at
    customers.id, `customerId` at customers.customer_id, `country` at countries.id."""
    name, key_name = logical_name(column), logical_name(key.name)
    stems = stems_of(table)
    if key_name not in GENERIC_KEYS and (name == key_name or name.endswith(f"_{key_name}")):
        return True
    for stem in stems:
        for own in (key_name, key_name.removeprefix(f"{stem}_")):
            if name in (f"{stem}_{own}", f"{stem}{own}"):
                return True
        if key.primary_key and name == stem:
            return True
    # An abbreviated stem: `cust_id` for customers.id (three letters at least).
    prefix, _, rest = name.partition("_")
    return rest == key_name and any(len(prefix) >= 3 and stem.startswith(prefix) for stem in stems)


def stems_of(table: str) -> set[str]:
    """What a column naming a table calls it: `customers`, `customer`, and without a
    warehouse's marks (`dim_product`, `product_dim`, `tbl_orders` name products and
    orders)."""
    name = logical_name(table)
    bare = WAREHOUSE_MARKS.sub("", name) or name
    return {name, singular(name), bare, singular(bare)}


def check_overlap(
    left: TableSchema, column: ColumnProfile, right: TableSchema, key: ColumnProfile
) -> Relationship:
    """How many of the column's distinct values the key holds: one query on the source."""
    connection = connection_for(left.ref)
    col, key_col = quote(connection, column.name), quote(connection, key.name)
    sql = (
        f"SELECT COUNT(DISTINCT l.{col}), COUNT(DISTINCT CASE WHEN r.k IS NOT NULL "
        f"THEN l.{col} END) FROM {qualified_name(connection, left.ref)} l "
        f"LEFT JOIN (SELECT DISTINCT {key_col} AS k FROM {qualified_name(connection, right.ref)}) r"
        f" ON l.{col} = r.k"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        distinct, found = cursor.fetchone()
    share = found / distinct if distinct else 0.0
    place = f"{right.ref.label}.{key.name}"
    verdict = "inferred" if distinct and share >= OVERLAP_NEEDED else "not related"
    role = role_for(column.name, left.ref.table, right.ref.table)
    named = (
        f"names a role ({role}) played by a row of {right.ref.label}"
        if role and not named_for(column.name, right.ref.table, key)
        else f"is named for {place}"
    )
    return Relationship(
        left=left.ref.key,
        left_column=column.name,
        right=right.ref.key,
        right_column=key.name,
        declared=False,
        one_to_one=column.unique,
        evidence=(
            f"{verdict}: {column.name} {named}, and {found:,} of its "
            f"{distinct:,} distinct values ({share:.0%}) are found there"
        ),
        distinct=distinct,
        found=found,
    )


def best(checked: list[Relationship]) -> list[Relationship]:
    """One relationship per column: where a name fits several keys, the one holding most of
    its values; and one per pair of columns, however many directions pass."""
    chosen: dict[tuple[str, str], Relationship] = {}
    for relationship in checked:
        if not relationship.accepted:
            continue
        # Two keys named alike (one to one): the pair joined once, in its first direction.
        reverse = chosen.get((relationship.right, relationship.right_column))
        if reverse is not None and reverse.right == relationship.left:
            continue
        place = (relationship.left, relationship.left_column)
        held = chosen.get(place)
        if held is None or (relationship.found or 0) > (held.found or 0):
            chosen[place] = relationship
    return list(chosen.values())


def _profile(profiles: list[ColumnProfile], name: str) -> ColumnProfile | None:
    return next((p for p in profiles if p.name == name), None)


def usable(relationships: list[Relationship], schemas: list[TableSchema]) -> list[Relationship]:
    """Which relationships a Cortex Analyst model can hold, each other one given its
    reason: none to a table itself; the right side is its table's primary key (the
    declared one, else the one key the accepted relationships agree on, so no table is
    joined on two different columns); the left column's values all found there."""
    tables = {schema.ref.key: schema for schema in schemas}
    keys: dict[str, str] = {}
    for relationship in relationships:
        schema = tables.get(relationship.right)
        if schema is None or relationship.unusable or relationship.self_reference:
            continue
        if schema.primary_key:
            keys[relationship.right] = ",".join(schema.primary_key)
        else:
            keys.setdefault(relationship.right, relationship.right_column)
    for relationship in relationships:
        if relationship.unusable:
            continue
        label = TableRef.parse(relationship.right).label
        if relationship.self_reference:
            relationship.unusable = (
                f"a table joined to itself ({relationship.left_column} refers to "
                f"{label}.{relationship.right_column}): Cortex Analyst joins no table to itself"
            )
        elif keys.get(relationship.right) != relationship.right_column:
            key = keys.get(relationship.right) or "none"
            relationship.unusable = (
                f"joins {label}.{relationship.right_column}, which is not its primary key "
                f"({key}): Cortex Analyst joins a table on its primary key"
            )
    return [r for r in relationships if not r.unusable]


def _may_join(column: ColumnProfile) -> bool:
    """Numbers may join; text only when its name says it identifies something."""
    return column.category in NUMBERS or identifier_named(column.name)


def _comparable(column: ColumnProfile, key: ColumnProfile) -> bool:
    numbers = column.category in NUMBERS and key.category in NUMBERS
    return numbers or column.category == key.category == "text"
