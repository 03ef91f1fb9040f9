"""SQL expressions that differ between SQLite and PostgreSQL: Beijing dates, months, day spans.

Times are stored as naive UTC; people and deadlines count Beijing (UTC+8, no daylight saving)
calendar days, so every date taken from a timestamp is shifted by eight hours in the database.
"""

from __future__ import annotations

from sqlalchemy import Date, Float, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import TypeEngine


def _function(
    name: str, sql_type: TypeEngine, doc: str, *, sqlite: str, postgresql: str
) -> type[FunctionElement]:
    """A SQL function written out per dialect: `{0}`, `{1}`… in the templates stand for its
    compiled arguments (each compiled once, however often it appears)."""
    function = type(
        name,
        (FunctionElement,),
        {"type": sql_type, "inherit_cache": True, "__doc__": doc, "__module__": __name__},
    )

    def template(text: str):
        def compile_(element, compiler, **kw) -> str:
            return text.format(*(compiler.process(clause, **kw) for clause in element.clauses))

        return compile_

    compiles(function, "sqlite")(template(sqlite))
    compiles(function)(template(postgresql))
    return function


local_date = _function(
    "local_date",
    Date(),
    "The Beijing calendar date of a stored naive-UTC timestamp.",
    sqlite="date({0}, '+8 hours')",
    postgresql="CAST(({0} + INTERVAL '8 hours') AS DATE)",
)

local_month = _function(
    "local_month",
    String(),
    "The Beijing month (`YYYY-MM`) of a stored naive-UTC timestamp.",
    sqlite="strftime('%Y-%m', {0}, '+8 hours')",
    postgresql="to_char(({0} + INTERVAL '8 hours'), 'YYYY-MM')",
)

days_between = _function(
    "days_between",
    Float(),
    "Fractional days from the first timestamp to the second.",
    sqlite="(julianday({1}) - julianday({0}))",
    postgresql="(EXTRACT(EPOCH FROM ({1} - {0})) / 86400.0)",
)

floor_int = _function(
    "floor_int",
    Integer(),
    "The largest whole number not above a number (the bucket of a number of days).",
    # CAST truncates towards zero: one less for a negative number with a fraction.
    sqlite="(CAST({0} AS INTEGER) - (CASE WHEN {0} < CAST({0} AS INTEGER) THEN 1 ELSE 0 END))",
    postgresql="CAST(floor({0}) AS INTEGER)",
)
