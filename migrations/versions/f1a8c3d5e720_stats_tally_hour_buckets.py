"""stats_tally: days to reply summed in hour-long buckets (percentile probes read one hour)

Revision ID: f1a8c3d5e720
Revises: e4c7a2f9b051
Create Date: 2026-12-06 14:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f1a8c3d5e720'
down_revision = 'e4c7a2f9b051'
branch_labels = None
depends_on = None

MEASURES = ('n', 'replied', 'met', 'on_time', 'several', 'open_one')


def _table():
    return sa.table(
        'stats_tally',
        sa.column('scope', sa.String),
        sa.column('key', sa.String),
        sa.column('dim', sa.String),
        sa.column('value', sa.String),
        *(sa.column(name, sa.Integer) for name in MEASURES),
    )


def upgrade():
    # Every sum again from the fact rows, the `x` rows in hours (board/stats/tally.py).
    from board.stats import tally

    tally.rebuild(op.get_bind())


def downgrade():
    # Back to whole days: the hour rows of each scope added up per day.
    bind = op.get_bind()
    table = _table()
    rows = bind.execute(sa.select(table).where(table.c.dim == 'x')).all()
    days: dict = {}
    for row in rows:
        key = (row.scope, row.key, str(int(row.value) // 24))
        sums = days.setdefault(key, [0] * len(MEASURES))
        for i, name in enumerate(MEASURES):
            sums[i] += getattr(row, name)
    bind.execute(sa.delete(table).where(table.c.dim == 'x'))
    if days:
        bind.execute(
            sa.insert(table),
            [
                {'scope': s, 'key': k, 'dim': 'x', 'value': v, **dict(zip(MEASURES, sums, strict=True))}
                for (s, k, v), sums in days.items()
            ],
        )
