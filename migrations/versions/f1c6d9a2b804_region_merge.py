"""region merge

region.merged_into_code / merged_on: a region retired by a GB/T 2260 merge names the region that
absorbed it and the day; it stays as history (its pages redirect). No region is merged yet.

Revision ID: f1c6d9a2b804
Revises: e5b2c8d4a713
Create Date: 2026-12-06 14:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1c6d9a2b804'
down_revision = 'e5b2c8d4a713'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('region', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('merged_into_code', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('merged_on', sa.Date(), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_region_merged_into_code'), ['merged_into_code'], unique=False
        )


def downgrade():
    with op.batch_alter_table('region', schema=None, recreate='never') as batch_op:
        batch_op.drop_index(batch_op.f('ix_region_merged_into_code'))
        batch_op.drop_column('merged_on')
        batch_op.drop_column('merged_into_code')
