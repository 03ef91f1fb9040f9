"""stats_day: messages received and replies published per Beijing day (home counters at any size)

Revision ID: e4c7a2f9b051
Revises: d7a3e5f1c902
Create Date: 2026-12-06 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4c7a2f9b051'
down_revision = 'd7a3e5f1c902'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'stats_day',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('messages', sa.Integer(), nullable=False),
        sa.Column('replies', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_stats_day')),
    )
    # The counts of the messages and replies already there (one pass over each table).
    from board.stats import daily

    daily.rebuild(op.get_bind())


def downgrade():
    op.drop_table('stats_day')
