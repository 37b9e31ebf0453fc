"""Outbox messages rendered at delivery

A change that tells a learner about their enrolment queues the message with what it needs to be
written (its renderer and ids) instead of its text: the request that makes the change no longer
renders e-mail, and ``flask send-mail`` writes the text when it delivers it, keeping it on the
row.

Revision ID: a41c6e8f2b57
Revises: 5b7e9c2d4f13
Create Date: 2026-12-05 23:58:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a41c6e8f2b57'
down_revision = '5b7e9c2d4f13'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('renderer', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('context', sa.JSON(), nullable=True))
        batch_op.alter_column('text', existing_type=sa.Text(), nullable=True)


def downgrade():
    # A message still waiting to be rendered has no text to keep: it cannot go back.
    op.execute("DELETE FROM outbox_messages WHERE text IS NULL")
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.alter_column('text', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('context')
        batch_op.drop_column('renderer')
