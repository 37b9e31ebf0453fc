"""Where people are logged in: a record per session

Each sign-in starts a session (``user_sessions``): its holder, a hash of the secret the
session and remember-me cookies keep, the ``session_version`` it began under, how the person
signed in, whether they asked to be remembered, when it started and was last seen (with the
address and browser seen then) and when it ended. People see their live sessions on their
account page and end the ones on other devices.

Revision ID: b7d4e2a9c513
Revises: a4c9e2f7b318
Create Date: 2026-12-08 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import skillsup.models.types


# revision identifiers, used by Alembic.
revision = 'b7d4e2a9c513'
down_revision = 'a4c9e2f7b318'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('session_version', sa.Integer(), nullable=False),
        sa.Column('method', sa.String(length=20), nullable=False),
        sa.Column('remember', sa.Boolean(), nullable=False),
        sa.Column('started_at', skillsup.models.types.UTCDateTime(), nullable=False),
        sa.Column('last_seen_at', skillsup.models.types.UTCDateTime(), nullable=False),
        sa.Column('ip_address', sa.String(length=45), nullable=True),
        sa.Column('user_agent', sa.String(length=255), nullable=True),
        sa.Column('ended_at', skillsup.models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
        sa.UniqueConstraint('secret_hash', name=op.f('uq_user_sessions_secret_hash')),
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
    op.drop_table('user_sessions')
