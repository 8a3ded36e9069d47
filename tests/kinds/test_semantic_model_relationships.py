"""Models over several tables of a user's database, joined by the foreign keys it declares
and, where it declares none, by the columns named for another table's key whose values
are found there: on PostgreSQL (declared), MariaDB and SQLite (inferred)."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest

from jobs.analysis.tables import connections
from jobs.models import Job
from tests.user_databases import (
    MARIADB_DATABASE,
    mariadb_tables,
    modelled,
    postgres_schema,
    submit,
)

pytestmark = pytest.mark.django_db
REGIONS = ["north", "south", "east", "west"]


def rows() -> dict[str, list[tuple]]:
    start = date(2024, 1, 1)
    customers = [
        (n, f"Customer {n}", REGIONS[n % 4], start + timedelta(days=n)) for n in range(1, 61)
    ]
    orders = [
        (1000 + n, 1 + (n * 7) % 60, round(10 + (n % 23) * 3.5, 2),
         "open" if n % 6 == 0 else "paid", start + timedelta(days=n % 300))
        for n in range(400)
    ]  # fmt: skip
    # Each payment pays an order (order_id), and carries a customer_id that is not a
    # customer's id at all (a number from another system): named like a key, it is no join.
    payments = [(n, 1000 + (n * 3) % 400, 5000 + n, round(5 + n % 40, 2)) for n in range(500)]
    return {"customers": customers, "orders": orders, "payments": payments}


CREATE = [
    "CREATE TABLE {s}customers (id INTEGER PRIMARY KEY, name VARCHAR(40), region VARCHAR(10),"
    " signup_date DATE)",
    "CREATE TABLE {s}orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER {fk},"
    " amount DECIMAL(10, 2), status VARCHAR(10), ordered_on DATE)",
    "CREATE TABLE {s}payments (id INTEGER PRIMARY KEY, order_id INTEGER, customer_id INTEGER,"
    " paid DECIMAL(10, 2))",
]


def load(cursor, prefix: str, fk: str, marker: str) -> None:
    for statement in CREATE:
        cursor.execute(statement.format(s=prefix, fk=fk))
    for table, values in rows().items():
        if marker == "?":
            # SQLite keeps dates as ISO text (its date adapter is deprecated).
            values = [tuple(str(v) if isinstance(v, date) else v for v in row) for row in values]
        holes = ", ".join([marker] * len(values[0]))
        cursor.executemany(f"INSERT INTO {prefix}{table} VALUES ({holes})", values)


@pytest.fixture
def postgres_shop():
    """Declared foreign keys, in a schema of the test database."""
    with postgres_schema(
        "shop", lambda c: load(c, "shop.", "REFERENCES shop.customers (id)", "%s")
    ) as url:
        yield url, "shop"


@pytest.fixture
def mariadb_shop():
    """No foreign keys declared: the relationships are inferred."""
    drop = "DROP TABLE IF EXISTS payments, orders, customers"
    with mariadb_tables(drop, lambda cursor: load(cursor, "", "", "%s")) as url:
        yield url, MARIADB_DATABASE


@pytest.fixture
def sqlite_shop(tmp_path):
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        load(db.cursor(), "", "", "?")
    return f"sqlite:///{path}", "main"


def model_of(user, keys: list[str]) -> tuple[dict, Job]:
    return modelled(user, {"tables": keys})


@pytest.mark.parametrize("source", ["postgres_shop", "mariadb_shop", "sqlite_shop"])
def test_several_tables_are_joined_by_declared_or_inferred_keys(request, user, source):
    url, schema = request.getfixturevalue(source)
    connection = connections.add(f"shop-{source}", url, users=[user])
    keys = [f"{connection.key}:{schema}.{table}" for table in ("orders", "customers", "payments")]

    model, job = model_of(user, keys)

    assert [t["name"] for t in model["tables"]] == ["orders", "customers", "payments"]
    joins = {
        (r["left_table"], r["right_table"]): (
            r["relationship_columns"],
            r["relationship_type"],
            r["join_type"],
        )
        for r in model["relationships"]
    }
    assert joins == {
        ("orders", "customers"): (
            [{"left_column": "customer_id", "right_column": "id"}],
            "many_to_one",
            "left_outer",
        ),
        ("payments", "orders"): (
            [{"left_column": "order_id", "right_column": "order_id"}],
            "many_to_one",
            "left_outer",
        ),
    }
    evidence = {
        (r["left"].split(".")[-1], r["left_column"]): r for r in job.result["relationships"]
    }
    declared = source == "postgres_shop"
    orders_customers = evidence[("orders", "customer_id")]
    assert orders_customers["declared"] is declared and orders_customers["kept"]
    if not declared:
        assert "60 of its 60 distinct values (100%) are found there" in orders_customers["evidence"]
    assert evidence[("payments", "order_id")]["evidence"].startswith(
        "inferred: order_id is named for"
    )
    # Named like a key of customers, but none of its values is a customer's id.
    turned_down = evidence[("payments", "customer_id")]
    assert not turned_down["kept"] and turned_down["evidence"].startswith("not related: ")
    assert "0 of its 500 distinct values (0%)" in turned_down["evidence"]

    payments = next(t for t in job.result["profile"] if t["table"].endswith("payments"))
    order_id = next(c for c in payments["columns"] if c["name"] == "order_id")
    assert order_id["role"] == "dimension" and "joins" in " ".join(order_id["reasons"])
    checks = job.result["checks"]
    assert all(check["ok"] for check in checks), [c for c in checks if not c["ok"]]
    assert {c["target"] for c in checks if c["target"].startswith("relationship ")} == {
        "relationship orders_to_customers",
        "relationship payments_to_orders",
    }
    across = [q for q in model["verified_queries"] if "JOIN" in q["sql"]]
    assert across and "FROM __orders AS l INNER JOIN __customers AS r" in across[0]["sql"]
    assert across[0]["question"] == "What is the total amount by customer region?"
    assert job.result["summary"]["relationships"] == 2


def test_a_table_reached_by_a_foreign_key_joins_the_model(user, alice_client, postgres_shop):
    url, schema = postgres_shop
    connection = connections.add("shop", url, users=[user])

    model, job = model_of(user, [f"{connection.key}:{schema}.orders"])
    page = alice_client.get(job.get_absolute_url()).content.decode()

    assert [t["name"] for t in model["tables"]] == ["orders", "customers"]
    assert model["description"].startswith("Semantic model of shop.orders and 1 related table")
    assert job.title == "shop.orders"
    assert "2 tables · 1 relationship" in page
    assert "<code>shop.orders.customer_id</code> →" in page
    assert "declared foreign key to shop.customers.id (in the model as" in page


def test_an_inferred_key_is_the_right_tables_primary_key(user, sqlite_shop, tmp_path):
    path = tmp_path / "keyless.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE countries (iso_code TEXT, country TEXT)")
        db.execute("CREATE TABLE cities (city TEXT, iso_code TEXT, population INTEGER)")
        db.executemany(
            "INSERT INTO countries VALUES (?, ?)", [(f"C{n:02}", f"Country {n}") for n in range(30)]
        )
        db.executemany(
            "INSERT INTO cities VALUES (?, ?, ?)",
            [(f"City {n}", f"C{n % 30:02}", 1000 * n) for n in range(200)],
        )
    connection = connections.add("geo", f"sqlite:///{path}", users=[user])

    model, job = model_of(
        user, [f"{connection.key}:main.cities", f"{connection.key}:main.countries"]
    )

    countries = next(t for t in model["tables"] if t["name"] == "countries")
    assert countries["primary_key"] == {"columns": ["iso_code"]}
    assert model["relationships"][0]["relationship_columns"] == [
        {"left_column": "iso_code", "right_column": "iso_code"}
    ]
    assert job.result["summary"]["checks_failed"] == 0


def test_tables_of_two_databases_are_refused(user, sqlite_shop, demo_table):
    url, _ = sqlite_shop
    connection = connections.add("shop", url, users=[user])
    params = {"tables": [demo_table.key, f"{connection.key}:main.orders"]}

    answer = submit(user, params)

    assert answer.status_code == 400
    assert "one database" in answer.json()["errors"]["tables"][0]
    assert not Job.objects.exists()


def test_camel_case_singular_tables_without_declared_keys(user, tmp_path):
    """A music catalogue laid out as many real databases are: singular CamelCase tables,
    `<Table>Id` keys, and no foreign key declared."""
    path = tmp_path / "music.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE Artist (ArtistId INTEGER PRIMARY KEY, Name TEXT)")
        db.execute("CREATE TABLE Album (AlbumId INTEGER PRIMARY KEY, Title TEXT, ArtistId INT)")
        db.execute(
            "CREATE TABLE Track (TrackId INTEGER PRIMARY KEY, Name TEXT, AlbumId INTEGER,"
            " Milliseconds INTEGER, UnitPrice NUMERIC(10, 2), GenreId INTEGER)"
        )
        db.executemany(
            "INSERT INTO Artist VALUES (?, ?)", [(n, f"Artist {n}") for n in range(1, 41)]
        )
        db.executemany(
            "INSERT INTO Album VALUES (?, ?, ?)",
            [(n, f"Album {n}", 1 + n % 40) for n in range(1, 121)],
        )
        db.executemany(
            "INSERT INTO Track VALUES (?, ?, ?, ?, ?, ?)",
            [(n, f"Track {n}", 1 + n % 120, 180_000 + n * 37 % 90_000, 0.99 if n % 7 else 1.99,
              1 + n % 25) for n in range(1, 1501)],
        )  # fmt: skip
    connection = connections.add("music", f"sqlite:///{path}", users=[user])
    keys = [f"{connection.key}:main.{table}" for table in ("Track", "Album", "Artist")]

    model, job = model_of(user, keys)

    joins = {(r["left_table"], r["right_table"]): r["relationship_columns"][0]
             for r in model["relationships"]}  # fmt: skip
    assert joins == {
        ("track", "album"): {"left_column": "album_id", "right_column": "album_id"},
        ("album", "artist"): {"left_column": "artist_id", "right_column": "artist_id"},
    }
    # GenreId names a table the model does not hold: a dimension still, never summed.
    track = next(t for t in model["tables"] if t["name"] == "track")
    assert "genre_id" in {d["name"] for d in track["dimensions"]}
    assert job.result["summary"]["checks_failed"] == 0
