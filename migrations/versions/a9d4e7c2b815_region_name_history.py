"""region name history

region_name keeps a region's earlier names: a GB/T 2260 rename keeps the code, so every link
and message stays where it was, and the region's page lists what it used to be called.

Revision ID: a9d4e7c2b815
Revises: f5c2d8b3a710
Create Date: 2026-12-06 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9d4e7c2b815'
down_revision = 'f5c2d8b3a710'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'region_name',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('old_name', sa.String(length=64), nullable=False),
        sa.Column('new_name', sa.String(length=64), nullable=False),
        sa.Column('changed_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['region_code'], ['region.code']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('region_name', schema=None, recreate='never') as batch_op:
        batch_op.create_index(batch_op.f('ix_region_name_region_code'), ['region_code'], unique=False)


def downgrade():
    with op.batch_alter_table('region_name', schema=None, recreate='never') as batch_op:
        batch_op.drop_index(batch_op.f('ix_region_name_region_code'))
    op.drop_table('region_name')
