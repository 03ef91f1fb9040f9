"""user deleted_at

user.deleted_at is when the person deleted their account (PIPL erasure): the row stays as an
anonymous tombstone, so nothing that points at it moves. Existing accounts are not deleted.

Revision ID: e5b2c8d4a713
Revises: f1a8c3d5e720
Create Date: 2026-12-06 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5b2c8d4a713'
down_revision = 'f1a8c3d5e720'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('user', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('deleted_at')
