"""Outbox claim tokens and skipped messages

A run of ``flask send-mail`` claims each message with a token of its own, and checks it before
sending and when recording the outcome: a run whose claim has run out and been taken by another
run neither sends the message again nor records over the other run's outcome. A message that
turns out to have nothing to send when it is written (a reset link asked for an address with no
active account) is finished as skipped.

Revision ID: e5a2c7b9d104
Revises: c3d8e1f4a7b2
Create Date: 2026-12-12 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a2c7b9d104'
down_revision = 'c3d8e1f4a7b2'
branch_labels = None
depends_on = None

OLD_STATUSES = ('pending', 'sending', 'sent', 'failed')
NEW_STATUSES = (*OLD_STATUSES, 'skipped')


def _status(values):
    return sa.Enum(*values, name='outbox_status', native_enum=False, create_constraint=True)


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))
        batch_op.alter_column(
            'status',
            existing_type=_status(OLD_STATUSES),
            type_=_status(NEW_STATUSES),
            existing_nullable=False,
        )


def downgrade():
    # Nothing was sent for a skipped message: before there was a word for it, it failed.
    op.execute("UPDATE outbox_messages SET status = 'failed' WHERE status = 'skipped'")
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.alter_column(
            'status',
            existing_type=_status(NEW_STATUSES),
            type_=_status(OLD_STATUSES),
            existing_nullable=False,
        )
        batch_op.drop_column('claim_token')
