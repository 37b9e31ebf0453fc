"""Funding schemes as data, with versions of their figures; courses and classes name theirs

The schemes a course is offered under become rows (``funding_schemes``) whose figures are kept
in versions (``funding_scheme_versions``), each applying to the classes that start on or after
its date. Four schemes are installed with the figures each publishes: the Continuing Education
Fund (for courses starting on or after 1 August 2022), the New Industrialisation and Technology
Training Programme, Employees Retraining Board courses, and company-sponsored training without
a scheme. A course names its schemes (``course_funding_schemes``); a class may have its own
list instead (``classes.funding_override`` with ``class_funding_schemes``). The courses marked
reimbursable under the Continuing Education Fund (``courses.cef_reimbursable``) are offered
under it, and the flag goes: the link is the one home of that fact. A learner may record the
CEF subsidy they have had elsewhere (``users.cef_subsidy_used_elsewhere``).

The figures below are this revision's own copy, frozen as they were installed; the services
keep the current published figures (``skillsup.services.funding_schemes.PUBLISHED_SCHEMES``).

Revision ID: 4e8a1c6f2d95
Revises: d6f1a3b8c274
Create Date: 2026-12-14 10:00:00.000000

"""
from datetime import UTC, date, datetime
from decimal import Decimal

from alembic import op
import sqlalchemy as sa

import skillsup.models.types


# revision identifiers, used by Alembic.
revision = '4e8a1c6f2d95'
down_revision = 'd6f1a3b8c274'
branch_labels = None
depends_on = None

#: The first figures of each scheme, as each published them.
SCHEMES = (
    {
        'code': 'CEF',
        'name_en': 'Continuing Education Fund',
        'name_zh': '持續進修基金',
        'paid_to': 'learner',
        'version': {
            'effective_from': date(2022, 8, 1),
            'min_attendance_pct': 70,
            'class_rules_apply': True,
            'assessment_required': True,
            'pass_mark_pct': Decimal('50.00'),
            'subsidy_kind': 'co_payment_tiers',
            'first_tier_limit': Decimal('10000.00'),
            'first_tier_co_payment_pct': Decimal('20.00'),
            'later_co_payment_pct': Decimal('40.00'),
            'person_lifetime_cap': Decimal('25000.00'),
            'note_en': 'For courses starting on or after 1 August 2022.',
            'note_zh': '適用於2022年8月1日或之後開始的課程。',
        },
    },
    {
        'code': 'NITTP',
        'name_en': 'New Industrialisation and Technology Training Programme',
        'name_zh': '新型工業化及科技培訓計劃',
        'paid_to': 'company',
        'version': {
            'effective_from': date(2000, 1, 1),
            'min_attendance_pct': 0,
            'class_rules_apply': True,
            'assessment_required': False,
            'subsidy_kind': 'share_of_fee',
            'fee_share_numerator': 2,
            'fee_share_denominator': 3,
            'company_cap_per_year': Decimal('500000.00'),
            'note_en': 'Two thirds of the fee for staff who complete an approved course, up to'
            ' HK$500,000 per company per financial year (April to March).',
            'note_zh': '僱員修畢認可課程，資助課程費用的三分之二；每間公司每個財政年度'
            '（4月至翌年3月）上限為港幣500,000元。',
        },
    },
    {
        'code': 'ERB',
        'name_en': 'Employees Retraining Board course',
        'name_zh': '僱員再培訓局課程',
        'paid_to': 'learner',
        'version': {
            'effective_from': date(2000, 1, 1),
            'min_attendance_pct': 80,
            'class_rules_apply': False,
            'assessment_required': False,
            'subsidy_kind': 'none',
            'note_en': 'At least 80 % attendance.',
            'note_zh': '出席率最少80%。',
        },
    },
    {
        'code': 'COMPANY',
        'name_en': 'Company-sponsored, without a scheme',
        'name_zh': '公司資助（不屬任何計劃）',
        'paid_to': 'none',
        'version': {
            'effective_from': date(2000, 1, 1),
            'min_attendance_pct': 0,
            'class_rules_apply': True,
            'assessment_required': False,
            'subsidy_kind': 'none',
            'note_en': '',
            'note_zh': '',
        },
    },
)

_VERSION_DEFAULTS = {
    'pass_mark_pct': None,
    'first_tier_limit': None,
    'first_tier_co_payment_pct': None,
    'later_co_payment_pct': None,
    'fee_share_numerator': None,
    'fee_share_denominator': None,
    'person_lifetime_cap': None,
    'company_cap_per_year': None,
    'year_starts_month': 4,
}

def upgrade():
    op.create_table('funding_schemes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=True),
    sa.Column('paid_to', sa.Enum('learner', 'company', 'none', name='funding_payee', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', skillsup.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_schemes')),
    sa.UniqueConstraint('code', name=op.f('uq_funding_schemes_code'))
    )
    op.create_table('course_funding_schemes',
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_funding_schemes_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scheme_id'], ['funding_schemes.id'], name=op.f('fk_course_funding_schemes_scheme_id_funding_schemes')),
    sa.PrimaryKeyConstraint('course_id', 'scheme_id', name=op.f('pk_course_funding_schemes'))
    )
    with op.batch_alter_table('course_funding_schemes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_funding_schemes_scheme_id'), ['scheme_id'], unique=False)

    op.create_table('class_funding_schemes',
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['classes.id'], name=op.f('fk_class_funding_schemes_class_id_classes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scheme_id'], ['funding_schemes.id'], name=op.f('fk_class_funding_schemes_scheme_id_funding_schemes')),
    sa.PrimaryKeyConstraint('class_id', 'scheme_id', name=op.f('pk_class_funding_schemes'))
    )
    with op.batch_alter_table('class_funding_schemes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_class_funding_schemes_scheme_id'), ['scheme_id'], unique=False)

    op.create_table('funding_scheme_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('min_attendance_pct', sa.SmallInteger(), nullable=False),
    sa.Column('class_rules_apply', sa.Boolean(), nullable=False),
    sa.Column('assessment_required', sa.Boolean(), nullable=False),
    sa.Column('pass_mark_pct', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('subsidy_kind', sa.Enum('co_payment_tiers', 'share_of_fee', 'none', name='subsidy_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('first_tier_limit', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('first_tier_co_payment_pct', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('later_co_payment_pct', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('fee_share_numerator', sa.Integer(), nullable=True),
    sa.Column('fee_share_denominator', sa.Integer(), nullable=True),
    sa.Column('person_lifetime_cap', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('company_cap_per_year', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('year_starts_month', sa.SmallInteger(), nullable=False),
    sa.Column('note_en', sa.Text(), nullable=False),
    sa.Column('note_zh', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', skillsup.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('fee_share_numerator IS NULL OR (fee_share_numerator >= 0 AND fee_share_denominator > 0 AND fee_share_numerator <= fee_share_denominator)', name=op.f('ck_funding_scheme_versions_fee_share_range')),
    sa.CheckConstraint('first_tier_co_payment_pct IS NULL OR (first_tier_co_payment_pct >= 0 AND first_tier_co_payment_pct <= 100)', name=op.f('ck_funding_scheme_versions_first_tier_co_payment_range')),
    sa.CheckConstraint('later_co_payment_pct IS NULL OR (later_co_payment_pct >= 0 AND later_co_payment_pct <= 100)', name=op.f('ck_funding_scheme_versions_later_co_payment_range')),
    sa.CheckConstraint('min_attendance_pct BETWEEN 0 AND 100', name=op.f('ck_funding_scheme_versions_min_attendance_range')),
    sa.CheckConstraint('pass_mark_pct IS NULL OR (pass_mark_pct >= 0 AND pass_mark_pct <= 100)', name=op.f('ck_funding_scheme_versions_pass_mark_range')),
    sa.CheckConstraint('year_starts_month BETWEEN 1 AND 12', name=op.f('ck_funding_scheme_versions_year_starts_month_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_funding_scheme_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['scheme_id'], ['funding_schemes.id'], name=op.f('fk_funding_scheme_versions_scheme_id_funding_schemes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_scheme_versions')),
    sa.UniqueConstraint('scheme_id', 'effective_from', name=op.f('uq_funding_scheme_versions_scheme_id_effective_from'))
    )
    with op.batch_alter_table('classes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('funding_override', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cef_subsidy_used_elsewhere', sa.Numeric(precision=10, scale=2), nullable=True))

    _install_schemes()
    # The courses reimbursable under the Continuing Education Fund are offered under it.
    op.execute(
        sa.text(
            "INSERT INTO course_funding_schemes (course_id, scheme_id) "
            "SELECT courses.id, funding_schemes.id FROM courses, funding_schemes "
            "WHERE courses.cef_reimbursable = :yes AND funding_schemes.code = 'CEF'"
        ).bindparams(yes=True)
    )
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_column('cef_reimbursable')


def _install_schemes():
    schemes = sa.table(
        'funding_schemes',
        sa.column('id', sa.Integer),
        sa.column('code', sa.String),
        sa.column('name_en', sa.String),
        sa.column('name_zh', sa.String),
        sa.column('paid_to', sa.String),
        sa.column('is_active', sa.Boolean),
        sa.column('created_at', skillsup.models.types.UTCDateTime(timezone=True)),
    )
    versions = sa.table(
        'funding_scheme_versions',
        sa.column('scheme_id', sa.Integer),
        sa.column('effective_from', sa.Date),
        sa.column('min_attendance_pct', sa.SmallInteger),
        sa.column('class_rules_apply', sa.Boolean),
        sa.column('assessment_required', sa.Boolean),
        sa.column('pass_mark_pct', sa.Numeric(5, 2)),
        sa.column('subsidy_kind', sa.String),
        sa.column('first_tier_limit', sa.Numeric(12, 2)),
        sa.column('first_tier_co_payment_pct', sa.Numeric(5, 2)),
        sa.column('later_co_payment_pct', sa.Numeric(5, 2)),
        sa.column('fee_share_numerator', sa.Integer),
        sa.column('fee_share_denominator', sa.Integer),
        sa.column('person_lifetime_cap', sa.Numeric(12, 2)),
        sa.column('company_cap_per_year', sa.Numeric(12, 2)),
        sa.column('year_starts_month', sa.SmallInteger),
        sa.column('note_en', sa.Text),
        sa.column('note_zh', sa.Text),
        sa.column('created_at', skillsup.models.types.UTCDateTime(timezone=True)),
    )
    bind = op.get_bind()
    now = datetime.now(UTC)
    for scheme in SCHEMES:
        bind.execute(
            schemes.insert().values(
                code=scheme['code'],
                name_en=scheme['name_en'],
                name_zh=scheme['name_zh'],
                paid_to=scheme['paid_to'],
                is_active=True,
                created_at=now,
            )
        )
        scheme_id = bind.execute(
            sa.select(schemes.c.id).where(schemes.c.code == scheme['code'])
        ).scalar_one()
        bind.execute(
            versions.insert().values(
                scheme_id=scheme_id,
                created_at=now,
                **{**_VERSION_DEFAULTS, **scheme['version']},
            )
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('cef_subsidy_used_elsewhere')

    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('cef_reimbursable', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # A course offered under the Continuing Education Fund is reimbursable under it again.
    op.execute(
        "UPDATE courses SET cef_reimbursable = (SELECT COUNT(*) > 0 FROM course_funding_schemes"
        " JOIN funding_schemes ON funding_schemes.id = course_funding_schemes.scheme_id"
        " WHERE course_funding_schemes.course_id = courses.id AND funding_schemes.code = 'CEF')"
    )
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.alter_column('cef_reimbursable', server_default=None)

    with op.batch_alter_table('classes', schema=None) as batch_op:
        batch_op.drop_column('funding_override')

    op.drop_table('funding_scheme_versions')
    with op.batch_alter_table('class_funding_schemes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_class_funding_schemes_scheme_id'))

    op.drop_table('class_funding_schemes')
    with op.batch_alter_table('course_funding_schemes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_funding_schemes_scheme_id'))

    op.drop_table('course_funding_schemes')
    op.drop_table('funding_schemes')
