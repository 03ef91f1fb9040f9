"""follows and saved searches

follow: a signed-in user follows a public message (关注) and is mailed when it is answered or
closed. saved_search: a public search kept by a user, with a daily digest mail and an Atom feed
addressed by an unguessable token. Both go with their user (ON DELETE CASCADE).

Revision ID: d7e2a9c4b1f3
Revises: a7d3c5e1f802
Create Date: 2026-12-06 10:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7e2a9c4b1f3'
down_revision = 'a7d3c5e1f802'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'follow',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['message.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'message_id', name='uq_follow_user_message'),
    )
    with op.batch_alter_table('follow', schema=None, recreate='never') as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_user_id'), ['user_id'], unique=False)

    op.create_table(
        'saved_search',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('query', sa.String(length=1000), nullable=False),
        sa.Column('feed_token', sa.String(length=64), nullable=False),
        sa.Column('is_digest_on', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('checked_at', sa.DateTime(), nullable=False),
        sa.Column('last_digest_on', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('feed_token'),
    )
    with op.batch_alter_table('saved_search', schema=None, recreate='never') as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_search_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('saved_search', schema=None, recreate='never') as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_search_user_id'))
    op.drop_table('saved_search')
    with op.batch_alter_table('follow', schema=None, recreate='never') as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_user_id'))
        batch_op.drop_index(batch_op.f('ix_follow_message_id'))
    op.drop_table('follow')
