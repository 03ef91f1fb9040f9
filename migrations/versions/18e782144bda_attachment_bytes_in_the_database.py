"""attachment bytes in the database

attachment_blob holds the bytes of each attachment so every app node serves every file;
attachment.storage says where a row's bytes are. Rows that exist keep "disk" (their files stay
in the upload directory and are still served) until `flask attachments migrate` moves them.

Revision ID: 18e782144bda
Revises: 98009bff3302
Create Date: 2026-12-06 07:32:37.247706

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '18e782144bda'
down_revision = '98009bff3302'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attachment_blob',
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], name=op.f('fk_attachment_blob_attachment_id_attachment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('attachment_id', name=op.f('pk_attachment_blob'))
    )
    with op.batch_alter_table('attachment', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('storage', sa.String(length=8), server_default='disk', nullable=False))


def downgrade():
    # The bytes of these attachments exist nowhere else: refuse rather than lose them.
    held = op.get_bind().execute(sa.text("SELECT count(*) FROM attachment_blob")).scalar()
    if held:
        raise RuntimeError(
            f"{held} attachments are stored only in the database (attachment_blob); "
            "downgrading would delete them"
        )
    with op.batch_alter_table('attachment', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('storage')

    op.drop_table('attachment_blob')
