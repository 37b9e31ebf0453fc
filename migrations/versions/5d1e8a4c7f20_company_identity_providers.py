"""Single sign-on: a partner company's OpenID Connect provider

Each partner company may have one identity provider (``company_identity_providers``): its
issuer, the portal's client id and sealed client secret there, the e-mail domains it covers,
whether a portal password stays allowed for those people, and whether it is switched on.

Revision ID: 5d1e8a4c7f20
Revises: b7d4e2a9c513
Create Date: 2026-12-07 13:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import skillsup.models.types


# revision identifiers, used by Alembic.
revision = '5d1e8a4c7f20'
down_revision = 'b7d4e2a9c513'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('company_identity_providers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('client_secret_sealed', sa.Text(), nullable=False),
    sa.Column('domains', sa.JSON(), nullable=False),
    sa.Column('password_allowed', sa.Boolean(), nullable=False),
    sa.Column('is_enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', skillsup.models.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', skillsup.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['partner_companies.id'], name=op.f('fk_company_identity_providers_company_id_partner_companies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_company_identity_providers')),
    sa.UniqueConstraint('company_id', name=op.f('uq_company_identity_providers_company_id'))
    )


def downgrade():
    op.drop_table('company_identity_providers')
