"""Reopening classes: when a class was closed, and one certificate in force per enrolment

A closed class may be reopened by an admin for a while after it was closed
(``classes.completed_at`` says when); reopening withdraws the certificates its closing issued,
and closing it again issues new ones. An enrolment may therefore have several certificates,
of which at most one is in force (not revoked): the unique constraint on
``certificates.enrolment_id`` becomes a partial unique index over the certificates in force.
Classes already completed take their last change as the time they were closed.

Revision ID: f3b8d2a6c915
Revises: e5a2c7b9d104
Create Date: 2026-12-07 00:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import skillsup.models.types


# revision identifiers, used by Alembic.
revision = 'f3b8d2a6c915'
down_revision = 'e5a2c7b9d104'
branch_labels = None
depends_on = None

VALID = sa.text('revoked_at IS NULL')


def upgrade():
    with op.batch_alter_table('classes', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'completed_at', skillsup.models.types.UTCDateTime(timezone=True), nullable=True
            )
        )
    op.execute("UPDATE classes SET completed_at = updated_at WHERE status = 'completed'")
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_constraint('uq_certificates_enrolment_id', type_='unique')
        batch_op.create_index(
            batch_op.f('ix_certificates_enrolment_id'), ['enrolment_id'], unique=False
        )
        batch_op.create_index(
            'uq_certificates_enrolment_id_valid',
            ['enrolment_id'],
            unique=True,
            sqlite_where=VALID,
            postgresql_where=VALID,
        )


def downgrade():
    # The older schema holds one certificate per enrolment. Certificates are records that are
    # never deleted, so a database where a reopened class's learners hold a withdrawn and a new
    # one cannot go back.
    several = op.get_bind().scalar(
        sa.text(
            "SELECT COUNT(*) FROM (SELECT enrolment_id FROM certificates "
            "GROUP BY enrolment_id HAVING COUNT(*) > 1) AS several"
        )
    )
    if several:
        raise RuntimeError(
            f"{several} enrolments hold more than one certificate (their class was reopened): "
            "this revision cannot be downgraded without deleting certificates"
        )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('uq_certificates_enrolment_id_valid')
        batch_op.drop_index(batch_op.f('ix_certificates_enrolment_id'))
        batch_op.create_unique_constraint('uq_certificates_enrolment_id', ['enrolment_id'])
    with op.batch_alter_table('classes', schema=None) as batch_op:
        batch_op.drop_column('completed_at')
