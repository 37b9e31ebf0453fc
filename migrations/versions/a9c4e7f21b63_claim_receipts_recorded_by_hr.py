"""Claim receipts: what a company received on a funding claim, and when

An HR officer records the amount a scheme paid the company for an enrolment and the day it
arrived (``claim_receipts``, one per enrolment and scheme), so that the value of training
shows the subsidy received beside the subsidy claimable.

Revision ID: a9c4e7f21b63
Revises: a9e4c17d5b30
Create Date: 2026-12-20 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import skillsup.models.types


# revision identifiers, used by Alembic.
revision = 'a9c4e7f21b63'
down_revision = 'a9e4c17d5b30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'claim_receipts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enrolment_id', sa.Integer(), nullable=False),
        sa.Column('scheme_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', skillsup.models.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint('amount >= 0', name=op.f('ck_claim_receipts_amount_not_negative')),
        sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_claim_receipts_enrolment_id_enrolments')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_claim_receipts_recorded_by_id_users')),
        sa.ForeignKeyConstraint(['scheme_id'], ['funding_schemes.id'], name=op.f('fk_claim_receipts_scheme_id_funding_schemes')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_receipts')),
        sa.UniqueConstraint('enrolment_id', 'scheme_id', name=op.f('uq_claim_receipts_enrolment_id_scheme_id')),
    )
    with op.batch_alter_table('claim_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_receipts_scheme_id'), ['scheme_id'], unique=False)


def downgrade():
    with op.batch_alter_table('claim_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_receipts_scheme_id'))
    op.drop_table('claim_receipts')
