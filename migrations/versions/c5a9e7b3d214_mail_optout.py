"""mail optout

mail_optout: an address that unsubscribed from one optional category of mail (updates on one's
own messages, replies to co-signed messages, daily digests), through the one-click link every
mail carries or the notification settings. Statutory notices are sent regardless.

Revision ID: c5a9e7b3d214
Revises: b2e8f4a6c913
Create Date: 2026-12-06 11:25:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5a9e7b3d214'
down_revision = 'b2e8f4a6c913'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_optout',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_optout')),
    sa.UniqueConstraint('address', 'category', name=op.f('uq_mail_optout_address'))
    )


def downgrade():
    op.drop_table('mail_optout')
