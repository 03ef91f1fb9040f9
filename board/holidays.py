"""China's statutory holidays as the law fixes them, computed for any year (DESIGN §4).

The 全国年节及纪念日放假办法 names the festivals and their length; the 2024 revision (in force
from 2025) gives 元旦 1 day, 春节 4 (除夕 to 初三), 清明节 1 (the Qingming solar term), 劳动节 2
(1–2 May), 端午节 1 (5th of the 5th lunar month), 中秋节 1 (15th of the 8th) and 国庆节 3
(1–3 October). Art. 6: a festival day that falls on a Saturday or Sunday is made up with a day off
on a working day (补休). We place each make-up day on the first weekday after it that is neither a
festival day nor already a make-up day, as the State Council's notices for 2025 and 2026 did; a
festival day shared by two festivals (中秋 on 1 October, as in 2020) earns one as well.

What no rule can predict is the State Council's yearly notice moving weekends around the breaks
(调休: 8-day breaks, make-up working Saturdays). So these days stand in only for a year whose
official schedule is not loaded, and every deadline counted through them is provisional.

Lunar dates and the solar term come from lunar-python (MIT, maintained, computed from the
astronomical algorithm rather than a table, so it covers any year); tests check them against
chinese-calendar's solar terms and official schedules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache


@dataclass(frozen=True)
class Revision:
    """One revision of the law: which festivals are days off, and how many days."""

    in_force: int  # the first year it governs
    title: str
    spring_from_eve: bool  # 春节 starts on 除夕 (else on 初一)
    spring_days: int
    labour_days: int
    traditional: bool  # 清明节, 端午节 and 中秋节 are days off


# The State Council's decrees: 1999 (国务院令第270号), 2007 (第513号), 2013 (第644号), 2024 (第795号).
REVISIONS = (
    Revision(2000, "1999 年修订", False, 3, 3, False),
    Revision(2008, "2007 年修订", True, 3, 1, True),
    Revision(2014, "2013 年修订", False, 3, 1, True),
    Revision(2025, "2024 年修订", True, 4, 2, True),
)
MAKEUP_SUFFIX = "补休"


def revision_for(year: int) -> Revision | None:
    """The revision in force in a year, or None before 2000 (no rules are kept for then)."""
    found = None
    for revision in REVISIONS:
        if revision.in_force <= year:
            found = revision
    return found


def _lunar(year: int, month: int, day: int) -> date:
    """The Gregorian date of a day of the lunar calendar (a regular, not a leap, month)."""
    from lunar_python import Lunar

    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def qingming(year: int) -> date:
    """The day of the Qingming solar term (清明), Beijing time."""
    from lunar_python import Lunar

    solar = Lunar.fromYmd(year, 3, 1).getJieQiTable()["清明"]
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def spring_festival_eve(year: int) -> date:
    """除夕: the last day of the lunar year that ends in this Gregorian year."""
    return _lunar(year, 1, 1) - timedelta(days=1)


@cache
def festival_days(year: int) -> dict[date, str]:
    """The statutory days off of a year by the law in force, with their festival's name."""
    revision = revision_for(year)
    if revision is None:
        return {}
    spring_start = spring_festival_eve(year) + timedelta(days=0 if revision.spring_from_eve else 1)
    runs: list[tuple[str, list[date]]] = [
        ("元旦", [date(year, 1, 1)]),
        ("春节", [spring_start + timedelta(days=i) for i in range(revision.spring_days)]),
        ("劳动节", [date(year, 5, 1 + i) for i in range(revision.labour_days)]),
        ("国庆节", [date(year, 10, 1 + i) for i in range(3)]),
    ]
    if revision.traditional:
        runs += [
            ("清明节", [qingming(year)]),
            ("端午节", [_lunar(year, 5, 5)]),
            ("中秋节", [_lunar(year, 8, 15)]),
        ]
    names: dict[date, list[str]] = {}
    for name, days in runs:
        for day in days:
            names.setdefault(day, []).append(name)
    return {day: "、".join(names[day]) for day in sorted(names)}


@cache
def makeup_days(year: int) -> dict[date, str]:
    """Art. 6's make-up days off (补休), each named after the festival it makes up for."""
    festivals = festival_days(year)
    taken: dict[date, str] = {}
    for day, name in festivals.items():
        owed = name.count("、") + (1 if day.weekday() >= 5 else 0)
        for _ in range(owed):
            candidate = day + timedelta(days=1)
            while candidate.weekday() >= 5 or candidate in festivals or candidate in taken:
                candidate += timedelta(days=1)
            taken[candidate] = name.split("、")[-1] + MAKEUP_SUFFIX
    return dict(sorted(taken.items()))


@cache
def days_off(year: int) -> dict[date, str]:
    """Every day off the law gives in a year: festival days and make-up days, with a note."""
    try:
        return {**festival_days(year), **makeup_days(year)}
    except (ValueError, IndexError, KeyError):  # a year lunar-python cannot compute
        return {}
