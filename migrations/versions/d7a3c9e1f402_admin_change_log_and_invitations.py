"""admin change log and staff invitations

admin_change records every admin change (web and command line) with who, when, the target and
the values before and after (JSON). invitation holds staff invitations: only the SHA-256 of the
link's token is stored; a row is used once (accepted_at) and expires (expires_at).

Revision ID: d7a3c9e1f402
Revises: d7e3a9c41b20
Create Date: 2026-12-06 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7a3c9e1f402'
down_revision = 'd7e3a9c41b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'admin_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_label', sa.String(length=254), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('target', sa.String(length=200), nullable=False),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('admin_change', schema=None, recreate='never') as batch_op:
        batch_op.create_index('ix_admin_change_kind_created', ['kind', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_admin_change_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_admin_change_target'), ['target'], unique=False)
        batch_op.create_index(batch_op.f('ix_admin_change_created_at'), ['created_at'], unique=False)

    op.create_table(
        'invitation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('invited_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('accepted_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['invited_by_id'], ['user.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id']),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('invitation', schema=None, recreate='never') as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_email'), ['email'], unique=False)


def downgrade():
    with op.batch_alter_table('invitation', schema=None, recreate='never') as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_email'))
    op.drop_table('invitation')
    with op.batch_alter_table('admin_change', schema=None, recreate='never') as batch_op:
        batch_op.drop_index(batch_op.f('ix_admin_change_created_at'))
        batch_op.drop_index(batch_op.f('ix_admin_change_target'))
        batch_op.drop_index(batch_op.f('ix_admin_change_actor_id'))
        batch_op.drop_index('ix_admin_change_kind_created')
    op.drop_table('admin_change')
