"""Index classes by course, status and start date

The catalogue orders courses by their next upcoming class; this index answers that with one
probe per course, and its first column replaces the index on course_id alone.

Revision ID: 3f1c9a7d2b64
Revises: 6bf7252090e6
Create Date: 2026-11-22 03:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3f1c9a7d2b64'
down_revision = '6bf7252090e6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('classes', schema=None) as batch_op:
        batch_op.create_index(
            'ix_classes_course_status_starts_on', ['course_id', 'status', 'starts_on'], unique=False
        )
        batch_op.drop_index(batch_op.f('ix_classes_course_id'))


def downgrade():
    with op.batch_alter_table('classes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_classes_course_id'), ['course_id'], unique=False)
        batch_op.drop_index('ix_classes_course_status_starts_on')
