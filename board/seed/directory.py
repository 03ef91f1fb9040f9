"""Loading regions into the directory and giving each its leader boards and office units."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import select

from ..extensions import db
from ..models import Board, Post, Region, RegionLevel, Unit

RegionRow = tuple[str, str, str, str | None]  # code, name, level, parent code


def load_regions(rows: Iterable[RegionRow], progress: Callable[[int], None] | None = None) -> int:
    """Insert or update regions (parents before children); returns how many rows were new.

    Idempotent: a second load with the same rows changes nothing.
    """
    rows = sorted(rows, key=lambda r: ({"province": 0, "city": 1, "county": 2}[r[2]], r[0]))
    existing = {r.code: r for r in db.session.scalars(select(Region))}
    added = 0
    for code, name, level, parent_code in rows:
        parent = existing.get(parent_code) if parent_code else None
        if parent_code and parent is None:
            raise ValueError(f"region {code} {name}: parent {parent_code} is unknown")
        path = f"{parent.path}/{code}" if parent else code
        full_name = f"{parent.full_name}{name}" if parent else name
        region = existing.get(code)
        if region is None:
            region = Region(code=code)
            db.session.add(region)
            existing[code] = region
            added += 1
        region.name, region.level, region.parent_code = name, level, parent_code
        region.path, region.full_name = path, full_name
        if progress:
            progress(1)
    db.session.commit()
    return added


# Divisions the mainland leaders' boards do not cover: 台湾省 and the two 特别行政区.
REGIONS_WITHOUT_BOARDS = frozenset({"710000", "810000", "820000"})


def board_titles(region: Region) -> list[tuple[str, str]]:
    """The leader posts of a region as (post, title), as on the People's Daily board."""
    name = region.name
    if region.code in REGIONS_WITHOUT_BOARDS:
        return []
    if name.endswith("自治区"):
        secretary, governor = f"{name}党委书记", f"{name}主席"
    elif region.level == RegionLevel.PROVINCE and name.endswith("省"):
        secretary, governor = f"{name}委书记", f"{name[:-1]}省长"
    elif name.endswith("自治州"):
        secretary, governor = f"{name}委书记", f"{name}州长"
    elif name.endswith("地区"):
        secretary, governor = f"{name[:-2]}地委书记", f"{name}行署专员"
    elif name.endswith("盟"):
        secretary, governor = f"{name}委书记", f"{name}盟长"
    elif name.endswith("市"):
        secretary, governor = f"{name}委书记", f"{name[:-1]}市长"
    else:
        secretary, governor = f"{name}委书记", f"{name}长"
    posts = [(Post.SECRETARY, secretary)]
    if region.level in (RegionLevel.PROVINCE, RegionLevel.CITY):
        posts.append((Post.GOVERNOR, governor))
    return posts


def ensure_boards(
    regions: Iterable[Region] | None = None, progress: Callable[[int], None] | None = None
) -> int:
    """Give each region its leader boards, each with a coordinator office unit; returns new boards."""
    if regions is None:
        regions = db.session.scalars(select(Region).order_by(Region.path))
    boards = {b.code for b in db.session.scalars(select(Board))}
    added = 0
    for region in regions:
        for post, title in board_titles(region):
            code = f"{region.code}-{post}"
            if code in boards:
                continue
            office = Unit(
                code=f"{code}-office",
                name=f"{title}留言办理办公室",
                region_code=region.code,
                is_office=True,
            )
            db.session.add(office)
            db.session.add(
                Board(
                    code=code, region_code=region.code, post=post, title=title, office_unit=office
                )
            )
            boards.add(code)
            added += 1
        if progress:
            progress(1)
    db.session.commit()
    return added
