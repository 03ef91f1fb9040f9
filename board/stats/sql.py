"""SQL expressions that differ between SQLite and PostgreSQL: Beijing dates, months, day spans.

Times are stored as naive UTC; people and deadlines count Beijing (UTC+8, no daylight saving)
calendar days, so every date taken from a timestamp is shifted by eight hours in the database.
"""

from __future__ import annotations

from sqlalchemy import Date, Float, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class local_date(FunctionElement):  # noqa: N801 (reads like a SQL function)
    """The Beijing calendar date of a stored naive-UTC timestamp."""

    type = Date()
    inherit_cache = True


@compiles(local_date, "sqlite")
def _local_date_sqlite(element, compiler, **kw):
    (column,) = list(element.clauses)
    return f"date({compiler.process(column, **kw)}, '+8 hours')"


@compiles(local_date)
def _local_date_pg(element, compiler, **kw):
    (column,) = list(element.clauses)
    return f"CAST(({compiler.process(column, **kw)} + INTERVAL '8 hours') AS DATE)"


class local_month(FunctionElement):  # noqa: N801
    """The Beijing month (`YYYY-MM`) of a stored naive-UTC timestamp."""

    type = String()
    inherit_cache = True


@compiles(local_month, "sqlite")
def _local_month_sqlite(element, compiler, **kw):
    (column,) = list(element.clauses)
    return f"strftime('%Y-%m', {compiler.process(column, **kw)}, '+8 hours')"


@compiles(local_month)
def _local_month_pg(element, compiler, **kw):
    (column,) = list(element.clauses)
    return f"to_char(({compiler.process(column, **kw)} + INTERVAL '8 hours'), 'YYYY-MM')"


class days_between(FunctionElement):  # noqa: N801
    """Fractional days from the first timestamp to the second."""

    type = Float()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_sqlite(element, compiler, **kw):
    start, end = list(element.clauses)
    return (
        f"(julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}))"
    )


@compiles(days_between)
def _days_pg(element, compiler, **kw):
    start, end = list(element.clauses)
    return (
        f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"
        " / 86400.0)"
    )


class floor_int(FunctionElement):  # noqa: N801
    """The largest whole number not above a number (the bucket of a number of days)."""

    type = Integer()
    inherit_cache = True


@compiles(floor_int, "sqlite")
def _floor_sqlite(element, compiler, **kw):
    (column,) = list(element.clauses)
    value = compiler.process(column, **kw)
    # CAST truncates towards zero: one less for a negative number with a fraction.
    return (
        f"(CAST({value} AS INTEGER) - "
        f"(CASE WHEN {value} < CAST({value} AS INTEGER) THEN 1 ELSE 0 END))"
    )


@compiles(floor_int)
def _floor_pg(element, compiler, **kw):
    (column,) = list(element.clauses)
    return f"CAST(floor({compiler.process(column, **kw)}) AS INTEGER)"
