"""reason code retired_at

Reason codes are never deleted (decisions keep showing the label they gave); a retired one is no
longer offered for new decisions. Existing codes stay in use.

Revision ID: f5c2d8b3a710
Revises: e2b8f4a61c09
Create Date: 2026-12-06 11:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f5c2d8b3a710'
down_revision = 'e2b8f4a61c09'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reason_code', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('reason_code', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('retired_at')
