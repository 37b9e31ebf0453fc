"""Index enrolments by company and last change

The HR dashboard reuses its figures while the company's enrolments are unchanged: it reads
the latest change of the company's enrolments on every visit, one index probe.

Revision ID: c3d8e1f4a7b2
Revises: a41c6e8f2b57
Create Date: 2026-12-06 20:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c3d8e1f4a7b2'
down_revision = 'a41c6e8f2b57'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.create_index(
            'ix_enrolments_company_updated', ['company_id', 'updated_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_index('ix_enrolments_company_updated')
