"""Funding warnings: what each enrolment was last warned of under each of its schemes

``funding_warnings`` keeps, per enrolment and scheme, the state (at risk or lost) the learner
and their HR officers were last warned of while it lasts, or none once it has recovered, and
how many falls have been warned of: the e-mails of each fall are claimed under its number in
``sent_reminders``, so that a fall is told once and a later fall again.

Revision ID: a7c4f19e2b63
Revises: 4e8a1c6f2d95
Create Date: 2026-12-16 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import skillsup.models.types


# revision identifiers, used by Alembic.
revision = 'a7c4f19e2b63'
down_revision = '4e8a1c6f2d95'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('funding_warnings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('met', 'on_track', 'at_risk', 'lost', name='funding_warning_state', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('warnings', sa.Integer(), nullable=False),
    sa.Column('changed_at', skillsup.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_funding_warnings_enrolment_id_enrolments')),
    sa.ForeignKeyConstraint(['scheme_id'], ['funding_schemes.id'], name=op.f('fk_funding_warnings_scheme_id_funding_schemes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_warnings')),
    sa.UniqueConstraint('enrolment_id', 'scheme_id', name=op.f('uq_funding_warnings_enrolment_id_scheme_id'))
    )
    with op.batch_alter_table('funding_warnings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funding_warnings_enrolment_id'), ['enrolment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('funding_warnings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funding_warnings_enrolment_id'))

    op.drop_table('funding_warnings')
