"""content version: one row per transaction that changed public data (page cache keys)

Revision ID: c4f1a2d9e8b7
Revises: c3a1f0d2e914
Create Date: 2026-12-06 07:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4f1a2d9e8b7'
down_revision = 'c3a1f0d2e914'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'content_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_content_version')),
    )


def downgrade():
    op.drop_table('content_version')
