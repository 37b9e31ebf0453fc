"""Reasons kept as codes with their figures, worded in the reader's language when shown

The reasons of enrolments (and of their history), classes and certificates were English
sentences. Each becomes a JSON list of ``{"code": ..., "args": {...}}`` (see
``skillsup/reasons.py``). The sentences the portal wrote are recognised and turned into their
codes with their figures; anything else (what a person typed) is kept as it was, as free text.
Downgrading words the codes in English again.

The wording is copied here as it was when this revision was written, so that the revision
reads the same whatever the portal's wording later becomes.

Revision ID: b7d4e2a9c318
Revises: 9c4e2b7d5a18
Create Date: 2026-12-10 09:00:00.000000

"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d4e2a9c318'
down_revision = '9c4e2b7d5a18'
branch_labels = None
depends_on = None

#: (table, old text column, new JSON column)
COLUMNS = (
    ('classes', 'status_reason', 'status_reasons'),
    ('enrolments', 'status_reason', 'status_reasons'),
    ('enrolment_status_changes', 'reason', 'reasons'),
    ('certificates', 'revoked_reason', 'revoked_reasons'),
)

HONG_KONG = timezone(timedelta(hours=8))
_PERCENT = r'(\d+(?:\.\d+)?)%'
_OUTCOME_SENTENCES = (
    (
        re.compile(rf'Attendance {_PERCENT} is below the {_PERCENT} minimum\.\s*'),
        lambda m: _reason(
            'attendance_below_minimum', rate=_fraction(m[1]), minimum=_fraction(m[2])
        ),
    ),
    (
        re.compile(rf'No attendance can be counted against the {_PERCENT} minimum\.\s*'),
        lambda m: _reason('no_attendance_counted', minimum=_fraction(m[1])),
    ),
    (re.compile(r'No assessment result recorded\.\s*'), lambda m: _reason('no_assessment_result')),
    (re.compile(r'Assessment failed\.\s*'), lambda m: _reason('assessment_failed')),
)
_APPROVAL = "placed by an admin without the company's hr approval"
_LATE = re.compile(r'enrolled after the last session ended \((\d{4}-\d\d-\d\d \d\d:\d\d)\)')
_REOPENED = 'Withdrawn: the class was reopened.'


def _reason(code: str, **args: Any) -> dict[str, Any]:
    return {'code': code, 'args': args}


def _fraction(text: str) -> float:
    return round(float(text) / 100, 4)


def _free(text: str) -> list[dict[str, Any]]:
    text = text.strip()
    return [_reason('free_text', text=text)] if text else []


def _outcome(text: str) -> list[dict[str, Any]] | None:
    """The reasons closing wrote for a learner who did not complete, or None."""
    found = []
    position = 0
    while position < len(text):
        for pattern, make in _OUTCOME_SENTENCES:
            match = pattern.match(text, position)
            if match:
                found.append(make(match))
                position = match.end()
                break
        else:
            return None
    return found or None


def _admin_notes(text: str) -> list[dict[str, Any]] | None:
    """An admin's enrolment past the company's approval or the class's end, or None."""
    notes, colon, typed = text.partition(': ')
    if not colon:
        return None
    found = []
    for note in notes.split('; '):
        late = _LATE.fullmatch(note.strip().lower())
        if note.strip().lower() == _APPROVAL:
            found.append(_reason('placed_without_approval'))
        elif late:
            ended = datetime.strptime(late[1], '%Y-%m-%d %H:%M').replace(tzinfo=HONG_KONG)
            found.append(
                _reason('enrolled_after_end', ended_at=ended.astimezone(timezone.utc).isoformat())
            )
        else:
            return None
    return found + _free(typed)


def to_reasons(text: str | None) -> list[dict[str, Any]] | None:
    """An old English reason as codes with their figures; free text when not recognised."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    if text == 'class completed':
        return [_reason('class_completed')]
    if text == 'promoted from the waitlist':
        return [_reason('promoted_from_waitlist')]
    if text.startswith(_REOPENED):
        return [_reason('class_reopened'), *_free(text[len(_REOPENED):])]
    return _outcome(text) or _admin_notes(text) or _free(text)


# The English wording when going back down.
_ENGLISH = {
    'attendance_below_minimum': 'Attendance {rate} is below the {minimum} minimum.',
    'no_attendance_counted': 'No attendance can be counted against the {minimum} minimum.',
    'no_assessment_result': 'No assessment result recorded.',
    'assessment_failed': 'Assessment failed.',
    'placed_without_approval': "Placed by an admin without the company's HR approval.",
    'enrolled_after_end': 'Enrolled after the last session ended ({ended_at}).',
    'promoted_from_waitlist': 'promoted from the waitlist',
    'class_completed': 'class completed',
    'class_reopened': _REOPENED,
}


def _percent(value: Any) -> str:
    return f'{float(value) * 100:.1f}'.rstrip('0').rstrip('.') + '%'


def to_text(reasons: Any) -> str | None:
    """Codes worded in English again, for the older schema."""
    if isinstance(reasons, str):
        reasons = json.loads(reasons)
    if not reasons:
        return None
    parts = []
    for item in reasons:
        args = dict(item.get('args') or {})
        code = item.get('code')
        if code == 'free_text' or code not in _ENGLISH:
            parts.append(str(args.get('text', '')))
            continue
        for name in ('rate', 'minimum'):
            if name in args:
                args[name] = _percent(args[name])
        if 'ended_at' in args:
            ended = datetime.fromisoformat(args['ended_at']).astimezone(HONG_KONG)
            args['ended_at'] = f'{ended:%Y-%m-%d %H:%M}'
        parts.append(_ENGLISH[code].format(**args))
    return ' '.join(part for part in parts if part) or None


def _convert(table: str, source: str, target: str, change: Any) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(f'SELECT id, {source} FROM {table} WHERE {source} IS NOT NULL')  # noqa: S608
    ).all()
    statement = sa.text(f'UPDATE {table} SET {target} = :value WHERE id = :id')  # noqa: S608
    if target.endswith('reasons'):
        statement = statement.bindparams(sa.bindparam('value', type_=sa.JSON()))
    for row_id, value in rows:
        bind.execute(statement, {'id': row_id, 'value': change(value)})


def upgrade():
    for table, old, new in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(new, sa.JSON(), nullable=True))
        _convert(table, old, new, to_reasons)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(old)


def downgrade():
    for table, old, new in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(old, sa.Text(), nullable=True))
        _convert(table, new, old, to_text)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(new)
