"""Enrolments keep the learner's company

A company's seats (its quotas, on every enrolment request and on the HR dashboard) are counted
over the enrolments of its staff: with the company on the enrolment, and an index on it, the
count reads only the company's enrolments in the quota's classes instead of looking up the
learner of every enrolment in them. A learner never changes company, so the copy cannot go
stale; existing rows are filled in from their learners.

Revision ID: 5b7e9c2d4f13
Revises: 8d2e4b6a1c90
Create Date: 2026-12-05 23:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b7e9c2d4f13'
down_revision = '8d2e4b6a1c90'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('company_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_enrolments_company_id_partner_companies'),
            'partner_companies',
            ['company_id'],
            ['id'],
        )
    op.execute(
        'UPDATE enrolments SET company_id = '
        '(SELECT users.company_id FROM users WHERE users.id = enrolments.learner_id)'
    )
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.create_index(
            'ix_enrolments_company_class_status',
            ['company_id', 'class_id', 'status'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_index('ix_enrolments_company_class_status')
        batch_op.drop_constraint(
            batch_op.f('fk_enrolments_company_id_partner_companies'), type_='foreignkey'
        )
        batch_op.drop_column('company_id')
