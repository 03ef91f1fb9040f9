"""topic taxonomy and message topic

topic holds the three-level topic tree (一级/二级/三级分类, loaded by `flask suggest taxonomy`,
edited by admins at /admin/topics); message.topic_id is the message's topic and
message.topic_source says who set it (citizen, staff, import). Existing messages start without one.

Revision ID: d7e3a9c41b20
Revises: d7e2a9c4b1f3
Create Date: 2026-12-06 10:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7e3a9c41b20'
down_revision = 'd7e2a9c4b1f3'
branch_labels = None
depends_on = None


def _sqlite_leftovers() -> tuple[bool, bool]:
    """(topic table there, message.topic_id there): what a SQLite downgrade leaves behind."""
    inspector = sa.inspect(op.get_bind())
    has_table = inspector.has_table('topic')
    has_column = any(c['name'] == 'topic_id' for c in inspector.get_columns('message'))
    return has_table, has_column


def upgrade():
    has_table, has_column = _sqlite_leftovers()
    if not has_table:
        _create_topic_table()
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite cannot add a constraint to a table, but it can add a column that carries one
        # (and copying the message table is not possible with foreign keys on).
        if not has_column:
            op.execute('ALTER TABLE message ADD COLUMN topic_id INTEGER '
                       'CONSTRAINT fk_message_topic_id_topic REFERENCES topic (id)')
    else:
        with op.batch_alter_table('message', schema=None, recreate='never') as batch_op:
            batch_op.add_column(sa.Column('topic_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(batch_op.f('fk_message_topic_id_topic'), 'topic', ['topic_id'], ['id'])
    with op.batch_alter_table('message', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('topic_source', sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f('ix_message_topic_id'), ['topic_id'], unique=False)


def _create_topic_table():
    op.create_table('topic',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('path', sa.String(length=160), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['topic.id'], name=op.f('fk_topic_parent_id_topic')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_topic')),
    sa.UniqueConstraint('path', name=op.f('uq_topic_path'))
    )
    with op.batch_alter_table('topic', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_parent_id'), ['parent_id'], unique=False)


def downgrade():
    with op.batch_alter_table('message', schema=None, recreate='never') as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_topic_id'))
        batch_op.drop_column('topic_source')
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite cannot drop a column that carries a foreign key, nor copy the message table
        # with foreign keys on: the topic_id column and the (emptied) topic table it refers to
        # stay until the message table goes (the initial migration's downgrade drops both), and
        # upgrade() takes them back as they are.
        op.execute('UPDATE message SET topic_id = NULL')
        op.execute('DELETE FROM topic')
        return
    with op.batch_alter_table('message', schema=None, recreate='never') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_message_topic_id_topic'), type_='foreignkey')
        batch_op.drop_column('topic_id')

    with op.batch_alter_table('topic', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_parent_id'))

    op.drop_table('topic')
