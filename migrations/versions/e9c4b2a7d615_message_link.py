"""message_link: duplicates merged (same person, same matter) or linked (many people, one matter)

A coordinator joins a later message to an earlier one from the duplicate panel of the desk; the
row keeps which, how, who and when. Nothing else changes: existing messages have no links.

Revision ID: e9c4b2a7d615
Revises: f1c6d9a2b804
Create Date: 2026-12-06 14:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e9c4b2a7d615'
down_revision = 'f1c6d9a2b804'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('message_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('other_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_message_link_actor_id_user')),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_message_link_message_id_message')),
    sa.ForeignKeyConstraint(['other_id'], ['message.id'], name=op.f('fk_message_link_other_id_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_link')),
    sa.UniqueConstraint('message_id', 'other_id', name='uq_message_link_pair')
    )
    with op.batch_alter_table('message_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_link_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_link_other_id'), ['other_id'], unique=False)


def downgrade():
    with op.batch_alter_table('message_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_link_other_id'))
        batch_op.drop_index(batch_op.f('ix_message_link_message_id'))
    op.drop_table('message_link')
