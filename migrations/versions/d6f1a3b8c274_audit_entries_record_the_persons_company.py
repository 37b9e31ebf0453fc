"""Audit entries about a person record the company the person belonged to at the time

A partner company's HR officers see a person's account history, and their part of the audit
log, only from while the person was theirs: a learner moved from company A to company B takes
no entry written at A (a deactivation reason by A's HR, say) to B's HR. Each entry about a
person gets ``company_id``. Existing entries are filled in from the moves an admin made
(``account.changed`` entries with a ``company`` change, whose codes are read as they were then,
through the renames of ``company.updated``): before a move, the company moved from; from the
move on, the company moved to; with no move, the person's company of today. The entry of a
move holds both companies' details and belongs to neither. A nomination
into a class (recorded on the class) gets the company of the HR officer who made it, as far as
it is known: their company of today.

Revision ID: d6f1a3b8c274
Revises: b7d4e2a9c318
Create Date: 2026-12-12 10:00:00.000000

"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "d6f1a3b8c274"
down_revision = "b7d4e2a9c318"
branch_labels = None
depends_on = None


def _details(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def upgrade():
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("company_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_log_company_id"), ["company_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_log_company_id_partner_companies"),
            "partner_companies",
            ["company_id"],
            ["id"],
        )

    bind = op.get_bind()
    # With no move recorded, a person's entries belong to their company of today.
    bind.execute(
        sa.text(
            "UPDATE audit_log SET company_id = "
            "(SELECT users.company_id FROM users WHERE users.id = audit_log.object_id) "
            "WHERE object_type = 'users'"
        )
    )

    bind.execute(
        sa.text(
            "UPDATE audit_log SET company_id = "
            "(SELECT users.company_id FROM users WHERE users.id = audit_log.actor_id) "
            "WHERE object_type = 'classes' AND action = 'staff.nominated'"
        )
    )

    # Every code each company has had (renames are recorded as "old → new").
    ids_by_code: dict[str, int] = {
        code: company_id
        for company_id, code in bind.execute(sa.text("SELECT id, code FROM partner_companies"))
    }
    for company_id, details in bind.execute(
        sa.text(
            "SELECT object_id, details FROM audit_log "
            "WHERE action = 'company.updated' AND object_type = 'partner_companies' "
            "ORDER BY id"
        )
    ):
        change = _details(details).get("code")
        if isinstance(change, str) and " → " in change and company_id is not None:
            old, _new = change.split(" → ", 1)
            ids_by_code.setdefault(old.strip(), company_id)

    moves: dict[int, list[tuple[int, Any]]] = defaultdict(list)
    for entry_id, person_id, details in bind.execute(
        sa.text(
            "SELECT id, object_id, details FROM audit_log "
            "WHERE action = 'account.changed' AND object_type = 'users' ORDER BY id"
        )
    ):
        company = _details(details).get("company")
        if isinstance(company, dict) and person_id is not None:
            moves[person_id].append((entry_id, company.get("before")))

    # Latest move first, so that each earlier move then corrects the entries before it.
    for person_id, person_moves in moves.items():
        for entry_id, before in reversed(person_moves):
            bind.execute(
                sa.text(
                    "UPDATE audit_log SET company_id = :company_id "
                    "WHERE object_type = 'users' AND object_id = :person_id AND id < :entry_id"
                ),
                {
                    "company_id": ids_by_code.get(before) if before else None,
                    "person_id": person_id,
                    "entry_id": entry_id,
                },
            )
    # A move holds both companies' details: it belongs to neither.
    for person_moves in moves.values():
        for entry_id, _before in person_moves:
            bind.execute(
                sa.text("UPDATE audit_log SET company_id = NULL WHERE id = :entry_id"),
                {"entry_id": entry_id},
            )


def downgrade():
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_audit_log_company_id_partner_companies"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_audit_log_company_id"))
        batch_op.drop_column("company_id")
