"""Sets of documents as sorted unique numpy arrays of docnums: union, intersection, difference.

Small sets are merged by sorting or binary search; when the operands hold over 1/16 of the
segment, a flag per document of the segment is cheaper (no sort).
"""

from __future__ import annotations

import numpy as np

EMPTY = np.empty(0, dtype=np.int64)


def union(parts: list[np.ndarray], doccount: int) -> np.ndarray:
    """The sorted unique docnums in any of `parts` (each sorted and unique)."""
    if len(parts) == 1:
        return parts[0]
    if sum(p.size for p in parts) * 16 < doccount:
        return np.unique(np.concatenate(parts))
    # Many documents: a flag per document of the segment (no sort).
    mask = np.zeros(doccount, dtype=bool)
    for part in parts:
        mask[part] = True
    return np.flatnonzero(mask)


def intersection(a: np.ndarray, b: np.ndarray, doccount: int) -> np.ndarray:
    """The sorted docnums in both `a` and `b` (each sorted and unique)."""
    if (a.size + b.size) * 16 < doccount:
        return sorted_intersection(a, b)
    mask = np.zeros(doccount, dtype=bool)
    mask[a] = True
    return b[mask[b]]


def difference(a: np.ndarray, b: np.ndarray, doccount: int) -> np.ndarray:
    """The sorted docnums in `a` and not in `b` (each sorted and unique)."""
    if (a.size + b.size) * 16 < doccount:
        return np.setdiff1d(a, b, assume_unique=True)
    mask = np.zeros(doccount, dtype=bool)
    mask[b] = True
    return a[~mask[a]]


def sorted_intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The values in both sorted unique arrays (binary search of the shorter in the longer)."""
    if a.size > b.size:
        a, b = b, a
    where = np.searchsorted(b, a)
    where[where == b.size] = 0
    return a[b[where] == a] if b.size else b
