"""unit contact phone

unit.contact_phone is the number a handling unit publishes for citizens to call back; it is shown
on the unit's page and stays readable when a public text quotes it (the masking keeps it).
Existing units start without one: admins fill it in at /admin/units.

Revision ID: c3a1f0d2e914
Revises: 18e782144bda
Create Date: 2026-12-06 07:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a1f0d2e914'
down_revision = '18e782144bda'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('unit', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('unit', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('contact_phone')
