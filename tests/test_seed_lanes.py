"""Bulk writers side by side (bench/seed_parallel.py) draw tracking codes from separate lanes."""

from __future__ import annotations

import random
from datetime import datetime

from board.messages.services import CODE_ALPHABET
from board.seed import bulk

NOW = datetime(2026, 11, 1, 1, 0, 0)


def _codes(lane: int, lanes: int, seed: int, n: int = 500) -> list[str]:
    builder = bulk._Builder(None, random.Random(seed))  # noqa: SLF001
    builder.first_characters = CODE_ALPHABET[lane::lanes]
    return [builder.code(NOW) for _ in range(n)]


def test_lanes_never_share_a_code_and_one_lane_draws_as_before(app):
    """Each writer's codes start with characters no other writer uses; a single writer draws
    exactly the codes the generator drew before lanes existed."""
    lanes = [_codes(lane, 3, seed=lane) for lane in range(3)]
    firsts = [{code[len("MS-2026-")] for code in codes} for codes in lanes]
    assert all(firsts) and not (
        firsts[0] & firsts[1] or firsts[0] & firsts[2] or firsts[1] & firsts[2]
    )
    rng = random.Random(7)
    before = ["MS-2026-" + "".join(rng.choice(CODE_ALPHABET) for _ in range(6)) for _ in range(50)]
    assert _codes(0, 1, seed=7, n=50) == before
