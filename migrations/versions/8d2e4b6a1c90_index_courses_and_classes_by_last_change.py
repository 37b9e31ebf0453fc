"""Index courses and classes by their last change

The catalogue keeps its rendered pages for a while and reads the latest change of its courses
and classes on every visit to know whether a kept page is still current: one index probe each.

Revision ID: 8d2e4b6a1c90
Revises: 3f1c9a7d2b64
Create Date: 2026-11-22 05:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '8d2e4b6a1c90'
down_revision = '3f1c9a7d2b64'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_updated_at'), ['updated_at'], unique=False)
    with op.batch_alter_table('classes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_classes_updated_at'), ['updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('classes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_classes_updated_at'))
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_updated_at'))
