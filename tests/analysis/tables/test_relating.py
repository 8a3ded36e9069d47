"""Which column names point at another table's key, and which checked candidates make
the model's relationships."""

from __future__ import annotations

import pytest

from jobs.analysis.tables.naming import plural, singular, table_synonyms
from jobs.analysis.tables.profiling import ColumnProfile
from jobs.analysis.tables.relating import Relationship, best, named_for


def key(name: str, primary: bool = True) -> ColumnProfile:
    return ColumnProfile(name, "integer", "integer", False, primary, 10)


@pytest.mark.parametrize(
    ("column", "table", "key_name", "expected"),
    [
        ("customer_id", "customers", "id", True),
        ("CustomerId", "Customer", "CustomerId", True),
        ("cust_id", "customers", "id", True),
        ("customerId", "customers", "customer_id", True),
        ("country", "countries", "id", True),
        ("category_id", "categories", "id", True),
        ("billing_customer_id", "customers", "customer_id", True),
        ("address_id", "addresses", "id", True),
        # A warehouse's dimension tables, named with their marks.
        ("product_id", "dim_product", "id", True),
        ("store_key", "store_dim", "key", True),
        ("product_key", "dim_product", "product_key", True),
        # Named like a key, but of something else, or of nothing at all.
        ("status_code", "status_reports", "id", False),
        ("id", "orders", "id", False),
        ("customer_id", "orders", "id", False),
        ("name", "products", "name", False),
        ("order_total", "orders", "id", False),
    ],
)
def test_a_column_named_for_a_tables_key(column, table, key_name, expected):
    assert named_for(column, table, key(key_name)) is expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("customers", "customer"),
        ("order_items", "order_item"),
        ("categories", "category"),
        ("addresses", "address"),
        ("boxes", "box"),
        ("status", "status"),
        ("series", "series"),
        ("Track", "Track"),
    ],
)
def test_singular(word, expected):
    assert singular(word) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [("purchase", "purchases"), ("entry", "entries"), ("box", "boxes"), ("day", "days"),
     ("sales order", "sales orders"), ("series", "series")],
)  # fmt: skip
def test_plural(word, expected):
    assert plural(word) == expected


@pytest.mark.parametrize(
    ("table", "expected"),
    [("orders", "purchases"), ("customers", "clients"),
     ("loan_applications", "credit applications")],
)  # fmt: skip
def test_a_table_is_also_called_by_what_its_rows_are_called(table, expected):
    assert expected in table_synonyms(table)


def relationship(left, column, right, key_name, found, distinct=100) -> Relationship:
    return Relationship(left, column, right, key_name, False, False, "", distinct, found)


def test_the_best_candidates_make_the_relationships():
    checked = [
        relationship("d:s.orders", "customer_id", "d:s.customers", "id", found=100),
        # The same column named for two keys: the one holding its values wins.
        relationship("d:s.orders", "customer_id", "d:s.customer_notes", "id", found=40),
        # Too few of its values found: no relationship.
        relationship("d:s.payments", "order_id", "d:s.orders", "id", found=90),
        # Two keys named alike: joined once.
        relationship("d:s.stats", "iso_code", "d:s.countries", "iso_code", found=100),
        relationship("d:s.countries", "iso_code", "d:s.stats", "iso_code", found=100),
    ]

    kept = best(checked)

    assert [(r.left, r.right) for r in kept] == [
        ("d:s.orders", "d:s.customers"),
        ("d:s.stats", "d:s.countries"),
    ]
