"""user: handlers and coordinators have a unit

A CHECK constraint backs the services' rule that a handler or coordinator always belongs to a
unit. PostgreSQL only: SQLite cannot add a constraint to an existing table without copying it
(which foreign keys forbid here); there the services' check stands alone.

Revision ID: b3e6f1a9d274
Revises: a9d4e7c2b815
Create Date: 2026-12-06 12:05:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b3e6f1a9d274'
down_revision = 'a9d4e7c2b815'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.create_check_constraint(
            op.f("ck_user_staff_has_unit"),
            "user",
            "role NOT IN ('handler', 'coordinator') OR unit_id IS NOT NULL",
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_user_staff_has_unit"), "user", type_="check")
