"""user locale

user.locale is the language of the mail a person receives ('zh_CN' or 'en'): set from the
interface language at registration and changed in the profile. Existing accounts get Chinese,
the language every mail was written in until now.

Revision ID: a7d3c5e1f802
Revises: c4f1a2d9e8b7
Create Date: 2026-12-06 10:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7d3c5e1f802'
down_revision = 'c4f1a2d9e8b7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None, recreate='never') as batch_op:
        batch_op.add_column(
            sa.Column('locale', sa.String(length=8), server_default='zh_CN', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('user', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('locale')
