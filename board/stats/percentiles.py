"""Percentiles of the days to reply (the median and the 90th percentile) over a scope's cases,
one statement for many groups: positions, the portable query and PostgreSQL's
`percentile_cont`. Used by the figures, the rankings and the periodic report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import Integer, bindparam, func, select

from ..extensions import db
from .models import StatsCase as Fact

# Percentiles as (numerator, denominator): the median and the 90th percentile.
MEDIAN, P90 = (1, 2), (9, 10)


def percentile_positions(n: int, fraction: tuple[int, int]) -> tuple[int, int, float]:
    """0-based (lower, upper, weight) of linear interpolation between order statistics."""
    k, d = fraction
    lower = k * (n - 1) // d
    upper = (k * (n - 1) + d - 1) // d
    return lower, upper, (k * (n - 1) - lower * d) / d


def _percentiles(
    conds: list,
    sizes: dict,
    group=None,
    fractions: Iterable[tuple[int, int]] = (MEDIAN, P90),
) -> dict:
    """{group: [days to reply at each fraction]}, linear interpolation (like percentile_cont).

    `sizes` holds each group's number of replied cases (from `_totals`), so each percentile is
    the one or two values at a known position: `ORDER BY days LIMIT 2 OFFSET k`, which the
    database answers by walking a percentile index (board/stats/models.py) to position k: no
    case is loaded and nothing is sorted. A ranking asks for hundreds of groups, so the
    statement is compiled once and repeated with UNION ALL (see `_repeat`)."""
    fractions = tuple(fractions)
    wanted = []  # (group key, fraction index, lower, upper, weight)
    for key, n in sizes.items():
        if n:
            for i, fraction in enumerate(fractions):
                wanted.append((key, i, *percentile_positions(n, fraction)))
    if not wanted:
        return {}
    if db.session.get_bind().dialect.name == "postgresql":
        return _percentiles_postgresql(conds, sizes, group, fractions)
    where = [*conds, Fact.days_to_reply.is_not(None)]
    if group is not None:
        where.append(group == bindparam("pct_key"))
    member = (
        select(bindparam("pct_q", type_=Integer).label("q"), Fact.days_to_reply.label("v"))
        .where(*where)
        .order_by(Fact.days_to_reply)
        .limit(bindparam("pct_limit", type_=Integer))
        .offset(bindparam("pct_offset", type_=Integer))
    )
    values: dict = defaultdict(list)
    for start in range(0, len(wanted), PERCENTILE_BATCH):
        chunk = wanted[start : start + PERCENTILE_BATCH]
        varying = [
            {
                "pct_q": start + number,
                "pct_key": key,
                "pct_limit": upper - lower + 1,
                "pct_offset": lower,
            }
            for number, (key, _i, lower, upper, _w) in enumerate(chunk)
        ]
        for number, value in _repeat(member, varying):
            values[number].append(float(value))
    found: dict = defaultdict(lambda: [None] * len(fractions))
    for number, (key, i, _lower, _upper, weight) in enumerate(wanted):
        got = sorted(values[number])
        if got:
            found[key][i] = got[0] + weight * (got[-1] - got[0])
    return dict(found)


PERCENTILE_BATCH = 100  # subqueries per statement (SQLite allows 500 compound terms)


def _percentiles_postgresql(conds: list, sizes: dict, group, fractions: tuple) -> dict:
    """PostgreSQL has `percentile_cont` (the same linear interpolation) as an ordered-set
    aggregate: one grouped query, cheaper there than planning hundreds of subqueries."""
    columns = [func.percentile_cont(k / d).within_group(Fact.days_to_reply) for k, d in fractions]
    where = [*conds, Fact.days_to_reply.is_not(None)]
    if group is None:
        row = db.session.execute(select(*columns).where(*where)).one()
        return {None: [None if v is None else float(v) for v in row]}
    keys = [key for key, n in sizes.items() if n]
    query = select(group, *columns).where(*where, group.in_(keys)).group_by(group)
    return {
        row[0]: [None if v is None else float(v) for v in row[1:]]
        for row in db.session.execute(query)
    }


def _repeat(statement, varying: list[dict]):
    """Rows of `statement` run once per dict of `pct_*` parameter values, as one UNION ALL.

    The text is SQLAlchemy's own compilation of `statement`; every value stays a bound parameter.

    Building hundreds of SQLAlchemy selects costs more than the database work they ask for, so
    the statement is compiled once and its SQL text repeated, each copy with its own values."""
    connection = db.session.connection()
    dialect = connection.dialect
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    processors = compiled._bind_processors  # noqa: SLF001 (the values SQLAlchemy would send)

    def value(name, raw):
        processor = processors.get(name)
        return processor(raw) if processor is not None else raw

    base = {name: value(name, raw) for name, raw in compiled.params.items()}
    parts = []
    if compiled.positiontup is not None:  # qmark / format: one list of values in order
        params: list = []
        for number, own in enumerate(varying):
            parts.append(f"SELECT * FROM ({compiled.string}) AS pct_{number}")  # noqa: S608
            params += [
                value(name, own[name]) if name in own else base[name]
                for name in compiled.positiontup
            ]
        return connection.exec_driver_sql(" UNION ALL ".join(parts), tuple(params)).all()
    named: dict = dict(base)
    for number, own in enumerate(varying):
        text = compiled.string
        for name in own:
            text = text.replace(f"%({name})s", f"%({name}_{number})s")
            named[f"{name}_{number}"] = value(name, own[name])
        parts.append(f"SELECT * FROM ({text}) AS pct_{number}")  # noqa: S608
    return connection.exec_driver_sql(" UNION ALL ".join(parts), named).all()
