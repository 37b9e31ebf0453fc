"""API tokens, the answers kept for idempotent requests, and the token of an audited change

Partner companies' HR systems call the JSON API with tokens that HR officers and admins
create (``api_tokens``, only a hash of the secret kept); a change requested with an
``Idempotency-Key`` keeps its answer (``api_idempotent_answers``); an audit entry names the
token a change came through (``audit_log.api_token_id``).

Revision ID: c3f1a9e7b210
Revises: a9c4e7f21b63
Create Date: 2026-12-21 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import skillsup.models.types


# revision identifiers, used by Alembic.
revision = 'c3f1a9e7b210'
down_revision = 'a9c4e7f21b63'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', skillsup.models.types.UTCDateTime(), nullable=False),
        sa.Column('expires_at', skillsup.models.types.UTCDateTime(), nullable=True),
        sa.Column('last_used_at', skillsup.models.types.UTCDateTime(), nullable=True),
        sa.Column('revoked_at', skillsup.models.types.UTCDateTime(), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['company_id'], ['partner_companies.id'], name=op.f('fk_api_tokens_company_id_partner_companies')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_tokens_created_by_id_users')),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_api_tokens_revoked_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
        sa.UniqueConstraint('secret_hash', name=op.f('uq_api_tokens_secret_hash')),
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_company_id'), ['company_id'], unique=False)

    op.create_table(
        'api_idempotent_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('headers', sa.JSON(), nullable=False),
        sa.Column('created_at', skillsup.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id'], name=op.f('fk_api_idempotent_answers_token_id_api_tokens')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_idempotent_answers')),
        sa.UniqueConstraint('token_id', 'key', name=op.f('uq_api_idempotent_answers_token_id_key')),
    )
    with op.batch_alter_table('api_idempotent_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_idempotent_answers_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('api_token_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_audit_log_api_token_id_api_tokens'), 'api_tokens', ['api_token_id'], ['id'])


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_audit_log_api_token_id_api_tokens'), type_='foreignkey')
        batch_op.drop_column('api_token_id')
    with op.batch_alter_table('api_idempotent_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_idempotent_answers_created_at'))
    op.drop_table('api_idempotent_answers')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_company_id'))
    op.drop_table('api_tokens')
