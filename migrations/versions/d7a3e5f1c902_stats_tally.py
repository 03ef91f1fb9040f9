"""stats_tally: running sums of the cases per region, board and unit (page figures at any size)

Revision ID: d7a3e5f1c902
Revises: c5a9e7b3d214
Create Date: 2026-12-06 10:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7a3e5f1c902'
down_revision = 'c5a9e7b3d214'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'stats_tally',
        sa.Column('scope', sa.String(length=8), nullable=False),
        sa.Column('key', sa.String(length=16), nullable=False),
        sa.Column('dim', sa.String(length=1), nullable=False),
        sa.Column('value', sa.String(length=10), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('replied', sa.Integer(), nullable=False),
        sa.Column('met', sa.Integer(), nullable=False),
        sa.Column('on_time', sa.Integer(), nullable=False),
        sa.Column('several', sa.Integer(), nullable=False),
        sa.Column('open_one', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('scope', 'key', 'dim', 'value', name=op.f('pk_stats_tally')),
    )
    # The sums of the fact rows already there (one pass over stats_case).
    from board.stats import tally

    tally.rebuild(op.get_bind())


def downgrade():
    op.drop_table('stats_tally')
