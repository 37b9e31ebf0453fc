"""A pending e-mail address, for a change an admin asks for and its owner confirms

An admin may change someone's e-mail address; the new address is kept apart until its owner
follows the link sent to it, and only then replaces the address in use (the token in the link
is tied to the pending address, so asking for another address voids the earlier link).

Revision ID: 9c4e2b7d5a18
Revises: f3b8d2a6c915
Create Date: 2026-12-07 03:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c4e2b7d5a18'
down_revision = 'f3b8d2a6c915'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_email', sa.String(length=254), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f('ck_users_pending_email_lowercase'), 'pending_email = lower(pending_email)'
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_pending_email_lowercase'), type_='check')
        batch_op.drop_column('pending_email')
