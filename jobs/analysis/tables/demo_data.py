"""A realistic demo table of loan applications, generated, never downloaded.

The columns follow the public HMDA loan/application register: coded categories (loan
type, purpose, action taken, denial reason), amounts rounded the way HMDA publishes
them, incomes in thousands, rates only for originated loans, and a date kept as
YYYYMMDD text the way many exports do. A seeded generator makes the same rows on every
machine, so profiles and semantic models of the demo are reproducible.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from datetime import date, timedelta

from django.db import connections, transaction

from jobs.analysis.tables.warehouse import SQLITE_SCHEMA, TableRef

SCHEMA = "demo"
LOANS = "loan_applications"
LENDERS = "lenders"
SEED = 20240101

STATES = [
    ("CA", "06", 0.14), ("TX", "48", 0.11), ("FL", "12", 0.09), ("NY", "36", 0.06),
    ("IL", "17", 0.05), ("PA", "42", 0.05), ("OH", "39", 0.05), ("GA", "13", 0.05),
    ("NC", "37", 0.05), ("MI", "26", 0.04), ("WA", "53", 0.04), ("AZ", "04", 0.04),
    ("CO", "08", 0.04), ("VA", "51", 0.04), ("NJ", "34", 0.04), ("MN", "27", 0.03),
    ("OR", "41", 0.03), ("UT", "49", 0.03), ("MA", "25", 0.02), ("TN", "47", 0.02),
]  # fmt: skip
LOAN_TYPES = [(1, 0.72), (2, 0.16), (3, 0.10), (4, 0.02)]
LOAN_PURPOSES = [(1, 0.48), (31, 0.22), (32, 0.12), (2, 0.08), (4, 0.08), (5, 0.02)]
OCCUPANCY = [(1, 0.89), (2, 0.03), (3, 0.08)]
TERMS = [(360, 0.80), (180, 0.09), (240, 0.05), (120, 0.03), (300, 0.03)]
AGE_BANDS = [
    ("<25", 0.05), ("25-34", 0.24), ("35-44", 0.25), ("45-54", 0.20),
    ("55-64", 0.15), ("65-74", 0.08), (">74", 0.03),
]  # fmt: skip
DTI_BANDS = [
    ("<20%", 0.10), ("20%-<30%", 0.22), ("30%-<36%", 0.20), ("36%-<50%", 0.35),
    ("50%-60%", 0.08), (">60%", 0.05),
]  # fmt: skip
# Action taken: 1 originated, 2 approved not accepted, 3 denied, 4 withdrawn, 5 incomplete,
# 6 purchased, 7 preapproval denied, 8 preapproval approved not accepted.
ACTIONS = [(1, 0.62), (2, 0.03), (3, 0.14), (4, 0.09), (5, 0.04), (6, 0.05), (7, 0.02), (8, 0.01)]
DENIAL_REASONS = [(1, 0.30), (3, 0.25), (4, 0.15), (2, 0.10), (7, 0.10), (5, 0.05), (9, 0.05)]
LENDER_ROWS = [
    ("5493001KJTIIGC8Y1R12", "Harbor Point Bank", "Bank"),
    ("549300MGPZBLQDIL7538", "Prairie State Credit Union", "Credit union"),
    ("254900OPPU84GM83MG36", "Summit Home Loans", "Independent mortgage company"),
    ("5493006W3QUS5LMH6R84", "Lakeshore Savings", "Savings association"),
    ("549300HFEHJOXGE4ZE63", "Red Rock Mortgage", "Independent mortgage company"),
    ("2549003BSC1HO5HE7R18", "Blue Valley Federal", "Bank"),
    ("549300NSSK4LJ5EPTB88", "Evergreen Lending", "Independent mortgage company"),
    ("549300WN2JVUO5TXB227", "Magnolia Community Bank", "Bank"),
]

LENDER_COLUMNS = ["lender_id", "lei", "name", "institution_type"]
LOAN_COLUMNS = [
    "application_id", "lender_id", "application_date", "action_taken_date", "activity_year",
    "state_code", "county_code", "loan_type", "loan_purpose", "occupancy_type", "loan_term",
    "loan_amount", "property_value", "income", "interest_rate", "debt_to_income_ratio",
    "applicant_age", "action_taken", "denial_reason_1",
]  # fmt: skip


def _ddl(vendor: str) -> list[str]:
    prefix = f"{SCHEMA}." if vendor == "postgresql" else ""
    statements = []
    if vendor == "postgresql":
        statements.append(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    statements += [
        f"DROP TABLE IF EXISTS {prefix}{LOANS}",
        f"DROP TABLE IF EXISTS {prefix}{LENDERS}",
        f"""CREATE TABLE {prefix}{LENDERS} (
            lender_id integer PRIMARY KEY,
            lei varchar(20) NOT NULL UNIQUE,
            name varchar(100) NOT NULL,
            institution_type varchar(40) NOT NULL
        )""",
        f"""CREATE TABLE {prefix}{LOANS} (
            application_id bigint PRIMARY KEY,
            lender_id integer NOT NULL REFERENCES {prefix}{LENDERS} (lender_id),
            application_date date NOT NULL,
            action_taken_date varchar(8) NOT NULL,
            activity_year integer NOT NULL,
            state_code char(2) NOT NULL,
            county_code char(5) NOT NULL,
            loan_type smallint NOT NULL,
            loan_purpose smallint NOT NULL,
            occupancy_type smallint NOT NULL,
            loan_term integer NOT NULL,
            loan_amount numeric(12, 2) NOT NULL,
            property_value numeric(12, 2),
            income integer,
            interest_rate numeric(6, 3),
            debt_to_income_ratio varchar(10),
            applicant_age varchar(6) NOT NULL,
            action_taken smallint NOT NULL,
            denial_reason_1 smallint
        )""",
    ]
    return statements


def _pick(rng: random.Random, weighted: list[tuple]) -> tuple:
    return rng.choices(weighted, weights=[item[-1] for item in weighted])[0]


def loan_rows(count: int, seed: int = SEED) -> Iterator[tuple]:
    rng = random.Random(seed)
    first_day = date(2023, 1, 1)
    for application_id in range(1, count + 1):
        applied = first_day + timedelta(days=rng.randrange(730))
        decided = applied + timedelta(days=rng.randrange(5, 75))
        state, fips, _ = _pick(rng, STATES)
        county = f"{fips}{rng.randrange(1, 200, 2):03d}"
        loan_type = _pick(rng, LOAN_TYPES)[0]
        purpose = _pick(rng, LOAN_PURPOSES)[0]
        income = max(12, round(rng.lognormvariate(4.55, 0.55)))
        amount = max(15_000, round(income * 1000 * rng.uniform(1.5, 5.0) / 10_000) * 10_000 + 5_000)
        property_value = round(amount / rng.uniform(0.55, 0.97) / 10_000) * 10_000 + 5_000
        dti = _pick(rng, DTI_BANDS)[0]
        roll = rng.random()
        action = 3 if dti in ("50%-60%", ">60%") and roll < 0.45 else _pick(rng, ACTIONS)[0]
        rate = None
        if action in (1, 2, 6):
            base = 6.2 if applied.year == 2023 else 6.7
            rate = round(base + (0.25 if loan_type != 1 else 0) + rng.gauss(0, 0.45), 3)
        yield (
            application_id,
            1 + rng.randrange(len(LENDER_ROWS)),
            applied,
            decided.strftime("%Y%m%d"),
            decided.year,
            state,
            county,
            loan_type,
            purpose,
            _pick(rng, OCCUPANCY)[0],
            _pick(rng, TERMS)[0],
            amount,
            None if rng.random() < 0.04 else property_value,
            None if rng.random() < 0.06 else income,
            rate,
            None if action in (4, 5) else dti,
            _pick(rng, AGE_BANDS)[0],
            action,
            _pick(rng, DENIAL_REASONS)[0] if action == 3 else None,
        )


def demo_tables(database: str = "default") -> list[TableRef]:
    schema = SCHEMA if connections[database].vendor == "postgresql" else SQLITE_SCHEMA
    return [TableRef(database, schema, LOANS), TableRef(database, schema, LENDERS)]


def demo_row_count(database: str = "default") -> int | None:
    connection = connections[database]
    prefix = f"{SCHEMA}." if connection.vendor == "postgresql" else ""
    try:
        with transaction.atomic(using=database), connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {prefix}{LOANS}")
            return cursor.fetchone()[0]
    except Exception:
        return None


def load(rows: int, database: str = "default", batch: int = 5_000) -> None:
    """(Re)create the demo tables with `rows` loan applications."""
    connection = connections[database]
    prefix = f"{SCHEMA}." if connection.vendor == "postgresql" else ""
    with transaction.atomic(using=database), connection.cursor() as cursor:
        for statement in _ddl(connection.vendor):
            cursor.execute(statement)
        cursor.executemany(
            f"INSERT INTO {prefix}{LENDERS} ({', '.join(LENDER_COLUMNS)}) VALUES (%s, %s, %s, %s)",
            [(index, *row) for index, row in enumerate(LENDER_ROWS, start=1)],
        )
        if connection.vendor == "postgresql":
            _copy_postgresql(cursor, f"{prefix}{LOANS}", loan_rows(rows), batch)
        else:
            placeholders = ", ".join(["%s"] * len(LOAN_COLUMNS))
            sql = f"INSERT INTO {LOANS} ({', '.join(LOAN_COLUMNS)}) VALUES ({placeholders})"
            chunk: list[tuple] = []
            for row in loan_rows(rows):
                chunk.append(row)
                if len(chunk) >= batch:
                    cursor.executemany(sql, chunk)
                    chunk = []
            if chunk:
                cursor.executemany(sql, chunk)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {prefix}{LOANS}")


def _copy_postgresql(cursor, table: str, rows: Iterator[tuple], batch: int) -> None:
    # COPY is an order of magnitude faster than INSERT for a million rows.
    raw = cursor.cursor
    columns = ", ".join(LOAN_COLUMNS)
    buffer = io.StringIO()
    for count, row in enumerate(rows, start=1):
        buffer.write("\t".join(r"\N" if value is None else str(value) for value in row))
        buffer.write("\n")
        if count % (batch * 10) == 0:
            buffer.seek(0)
            raw.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)
            buffer = io.StringIO()
    buffer.seek(0)
    raw.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)
