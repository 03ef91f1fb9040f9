"""board term history

board_term keeps who held a board's post and when (messages stay with the post). Existing boards
keep their holder_name; their first change of holder records the old holder's term with an
unknown start.

Revision ID: e2b8f4a61c09
Revises: d7a3c9e1f402
Create Date: 2026-12-06 11:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2b8f4a61c09'
down_revision = 'd7a3c9e1f402'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'board_term',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('board_id', sa.Integer(), nullable=False),
        sa.Column('holder_name', sa.String(length=64), nullable=False),
        sa.Column('started_on', sa.Date(), nullable=True),
        sa.Column('ended_on', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['board_id'], ['board.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('board_term', schema=None, recreate='never') as batch_op:
        batch_op.create_index(batch_op.f('ix_board_term_board_id'), ['board_id'], unique=False)


def downgrade():
    with op.batch_alter_table('board_term', schema=None, recreate='never') as batch_op:
        batch_op.drop_index(batch_op.f('ix_board_term_board_id'))
    op.drop_table('board_term')
