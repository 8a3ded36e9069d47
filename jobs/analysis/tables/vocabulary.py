"""What the words in column names mean: expansions of abbreviations, units, synonyms,
and what kind of quantity a name measures. A curated vocabulary that works offline; a
configured model adds to the descriptions and synonyms (describing.py)."""

from __future__ import annotations

# A word as written in names, and the words it stands for.
ABBREVIATIONS = {
    "amt": "amount", "avg": "average", "bal": "balance", "cap": "capita", "cd": "code",
    "cnt": "count", "ct": "count", "cust": "customer", "desc": "description", "dept": "department",
    "dt": "date", "dti": "debt to income", "emp": "employee", "fips": "FIPS", "gdp": "GDP",
    "id": "identifier", "lat": "latitude", "lei": "legal entity identifier", "lng": "longitude",
    "lon": "longitude", "max": "maximum", "min": "minimum", "mgr": "manager", "nbr": "number",
    "no": "number", "num": "number", "pct": "percent", "percap": "per capita", "pop": "population",
    "precip": "precipitation", "prev": "previous", "qty": "quantity", "temp": "temperature",
    "tmax": "maximum temperature", "tmin": "minimum temperature", "ts": "timestamp",
    "yr": "year", "addr": "address", "acct": "account", "txn": "transaction", "rev": "revenue",
}  # fmt: skip
# Two words that mean more together than apart ("life exp" is not an expense).
PHRASES = {
    ("life", "exp"): "life expectancy", ("per", "cap"): "per capita",
    ("per", "capita"): "per capita", ("exp", "date"): "expiry date",
}  # fmt: skip
# A last word that names a unit, and how a description says it.
UNITS = {
    "usd": "US dollars", "eur": "euros", "gbp": "pounds sterling", "pct": "percent",
    "percent": "percent", "km": "kilometres", "kg": "kilograms", "lbs": "pounds",
    "mm": "millimetres",
    "cm": "centimetres", "m": "metres", "sec": "seconds", "secs": "seconds", "seconds": "seconds",
    "ms": "milliseconds", "mins": "minutes", "minutes": "minutes", "hrs": "hours", "hours": "hours",
    "days": "days", "c": "degrees Celsius", "f": "degrees Fahrenheit", "mph": "miles per hour",
    "kmh": "kilometres per hour", "mb": "megabytes", "gb": "gigabytes", "bytes": "bytes",
}  # fmt: skip
# Other words people use for the same thing.
SYNONYMS = {
    "amount": ["value", "sum"], "applicant": ["borrower", "customer"], "balance": ["amount owed"],
    "category": ["type", "class", "group"], "city": ["town"], "continent": ["region"],
    "cost": ["expense", "spend"], "count": ["number"], "country": ["nation"],
    "customer": ["client", "buyer"], "date": ["day"], "description": ["details"],
    "employee": ["staff member", "worker"], "income": ["earnings", "salary"],
    "latitude": ["lat"], "longitude": ["lon", "lng"], "population": ["inhabitants", "people"],
    "precipitation": ["rainfall", "rain"], "price": ["cost", "unit price"],
    "product": ["item", "article"], "quantity": ["units", "volume"], "rate": ["ratio"],
    "region": ["area", "territory"], "revenue": ["sales", "turnover", "income"],
    "score": ["rating", "grade"], "state": ["province"], "status": ["state", "stage"],
    "temperature": ["temp", "heat"], "weather": ["conditions"], "wind": ["wind speed"],
    "year": ["calendar year"], "gdp": ["gross domestic product", "economic output"],
    "life expectancy": ["lifespan", "expected lifetime"], "order": ["purchase"],
    "supplier": ["vendor"], "loan": ["credit"], "purpose": ["reason"],
}  # fmt: skip
GLOSSARY = {"GDP": "GDP (gross domestic product)"}

# What a quantity's name says about how it adds up.
ADDITIVE = {
    "amount", "total", "sum", "count", "quantity", "revenue", "sales", "cost", "spend", "fee",
    "fees", "units", "volume", "precipitation", "profit", "tax", "payment", "paid", "income",
    "loss", "deaths", "cases", "visits", "clicks", "orders", "items", "bytes", "duration",
}  # fmt: skip
LEVELS = {
    "rate", "ratio", "percent", "percentage", "share", "average", "mean", "median", "score",
    "index", "temperature", "age", "expectancy", "price", "level", "speed", "density",
    "humidity", "pressure", "elevation", "altitude", "rating", "grade", "probability",
    "margin", "capita", "latitude", "longitude", "wind", "maximum", "minimum", "interest",
    "yield", "apr", "gpa", "bmi", "height", "weight", "ph", "visibility",
}  # fmt: skip
COORDINATES = {"latitude", "longitude"}
# Quantities measured at a moment: summed across places, never across time.
SNAPSHOTS = {
    "population", "balance", "inventory", "stock", "headcount", "employees", "members",
    "subscribers", "outstanding", "capacity", "reserves",
}  # fmt: skip
# Dates of a person's life: grouped by, never a trend of the business.
PERSONAL_DATES = {"birth", "birthday", "born", "dob", "death", "died", "anniversary"}
