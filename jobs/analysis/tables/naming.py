"""Names and SQL expressions in a semantic model: logical names, quoting, types, dates."""

from __future__ import annotations

import re

from jobs.analysis.tables import vocabulary
from jobs.analysis.tables.profiling import ColumnProfile

RESERVED = frozenset(
    """all alter and any as asc between by case cast check column constraint create cross
    current current_date current_time current_timestamp database default delete desc distinct
    drop else end exists false fetch for foreign from full grant group having in inner insert
    intersect into is join lateral left like limit natural not null of on or order outer
    primary qualify references revoke right row rows select set some start table then to
    trigger true union unique update using values when where with""".split()  # noqa: SIM905
)


def _snake(name: str) -> str:
    # camelCase and digits after letters become words of their own: gdpPercap, pop2007.
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])", "_", name)


def logical_name(name: str) -> str:
    cleaned = re.sub(r"[^0-9a-zA-Z_]+", "_", _snake(name)).strip("_").lower() or "column"
    cleaned = re.sub(r"_+", "_", cleaned)
    if cleaned[0].isdigit():
        cleaned = f"c_{cleaned}"
    if cleaned in RESERVED:
        cleaned = f"{cleaned}_value"
    return cleaned


def words(name: str) -> list[str]:
    """The words of a name as written: `gdpPercap` is gdp, percap."""
    return [word for word in re.split(r"[^0-9a-zA-Z]+", _snake(name).lower()) if word]


def meaning(name: str) -> list[str]:
    """The words a name stands for, abbreviations and phrases expanded:
    `lifeExp` is life expectancy, `gdpPercap` GDP per capita, `amt_usd` amount usd."""
    parts, expanded, index = words(name), [], 0
    while index < len(parts):
        pair = tuple(parts[index : index + 2])
        if pair in vocabulary.PHRASES:
            expanded.append(vocabulary.PHRASES[pair])
            index += 2
            continue
        expanded.append(vocabulary.ABBREVIATIONS.get(parts[index], parts[index]))
        index += 1
    return " ".join(expanded).split()


def humanize(name: str) -> str:
    return " ".join(meaning(name))


def unit(name: str) -> str | None:
    """The unit a name's last word gives (`price_usd`, `tmax_c`), if any."""
    parts = words(name)
    return vocabulary.UNITS.get(parts[-1]) if len(parts) > 1 else None


# Words whose singular and plural are the same, or that only look plural.
UNCHANGED = {"series", "species", "news", "data", "status", "analysis", "gas", "bus"}


def singular(word: str) -> str:
    """The last word of a snake-case name made singular: order_items -> order_item."""
    head, sep, last = word.rpartition("_")
    if last in UNCHANGED:
        pass
    elif last.endswith("ies") and len(last) > 4:
        last = last[:-3] + "y"
    elif last.endswith(("ses", "xes", "ches", "shes")):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith(("ss", "us", "is")):
        last = last[:-1]
    return f"{head}{sep}{last}"


def plural(phrase: str) -> str:
    """The last word of a phrase made plural: purchase -> purchases, entry -> entries."""
    head, sep, last = phrase.rpartition(" ")
    if last in UNCHANGED or not last:
        pass
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        last = last[:-1] + "ies"
    elif last.endswith(("s", "x", "ch", "sh")):
        last += "es"
    else:
        last += "s"
    return f"{head}{sep}{last}"


def table_synonyms(name: str) -> list[str]:
    """A table's other names: as for a column, then the other names of what one row is,
    in the plural (orders: purchases)."""
    found = synonyms_for(name)
    one = singular(logical_name(name))
    if one != logical_name(name):
        found += [plural(other) for other in synonyms_for(one)]
    seen, result = {humanize(name).lower(), logical_name(name)}, []
    for candidate in found:
        said = candidate.lower().split()
        if candidate.lower() not in seen and len(set(said)) == len(said):
            seen.add(candidate.lower())
            result.append(candidate)
    return result[:6]


def synonyms_for(name: str) -> list[str]:
    """Other names for a column or table: as written, expanded, without a trailing id
    word, and the vocabulary's synonyms of its words; never the name itself."""
    parts, expanded = words(name), meaning(name)
    phrase = " ".join(expanded)
    candidates = [" ".join(parts), phrase]
    trailing = {"id", "identifier", "code", "key", "number", "1"}
    if len(expanded) > 1 and expanded[-1] in trailing:
        candidates.append(" ".join(expanded[:-1]))
    candidates += vocabulary.SYNONYMS.get(phrase, [])
    for word in expanded:
        candidates += [phrase.replace(word, other) for other in vocabulary.SYNONYMS.get(word, [])]
    seen, result = {name.lower(), logical_name(name)}, []
    for candidate in candidates:
        candidate = candidate.strip()
        said = candidate.lower().split()
        # "unit price" with price's synonym "unit price" put in: "unit unit price".
        if len(set(said)) < len(said):
            continue
        if candidate and candidate.lower() not in seen:
            seen.add(candidate.lower())
            result.append(candidate)
    return result[:6]


def snowflake_type(profile: ColumnProfile, precision: int | None, scale: int | None) -> str:
    match profile.category:
        case "integer":
            return "NUMBER(38,0)"
        case "decimal":
            return f"NUMBER({precision},{scale or 0})" if precision else "NUMBER"
        case "float":
            return "FLOAT"
        case "date":
            return "DATE"
        case "timestamp":
            return (
                "TIMESTAMP_TZ"
                if "zone" in profile.source_type and "without" not in profile.source_type
                else "TIMESTAMP_NTZ"
            )
        case "boolean":
            return "BOOLEAN"
        case _:
            return "VARCHAR"


def personal_date(name: str) -> bool:
    """A date in a person's life (a birth date), not of the business's activity: never a
    trend or a "last 12 months"."""
    return bool(set(meaning(name)) & vocabulary.PERSONAL_DATES)


def snowflake_identifier(name: str) -> str:
    """A database's name as a Snowflake identifier: a file's name without its folder and
    extension (shop.db: shop), other characters as underscores."""
    base = re.split(r"[\\/]", name)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    cleaned = re.sub(r"[^0-9A-Za-z_$]+", "_", stem).strip("_") or "database"
    return f"_{cleaned}" if cleaned[0].isdigit() or cleaned[0] == "$" else cleaned
