"""Certificates that expire: a course's certificate validity and each certificate's expiry

A course may say for how many months its certificates stay valid
(``courses.certificate_valid_months``, 1 to 120; empty: they never expire), and each
certificate keeps the Hong Kong date from which it is no longer valid
(``certificates.expires_on``), fixed when it is issued. Certificates issued before this
revision never expire.

Revision ID: a9e4c17d5b30
Revises: a7c4f19e2b63
Create Date: 2026-12-20 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9e4c17d5b30'
down_revision = 'a7c4f19e2b63'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certificate_valid_months', sa.SmallInteger(), nullable=True))
        batch_op.create_check_constraint(
            'certificate_valid_months_range', 'certificate_valid_months BETWEEN 1 AND 120'
        )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_on', sa.Date(), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_certificates_expires_on'), ['expires_on'], unique=False
        )


def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_expires_on'))
        batch_op.drop_column('expires_on')
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_constraint('certificate_valid_months_range', type_='check')
        batch_op.drop_column('certificate_valid_months')
