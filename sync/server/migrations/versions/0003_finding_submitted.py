"""records: whether a finding has been submitted for checking (提交核查) at any time

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 16:50:00

"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUBMITTED_STATUSES = ("pending_check", "closed")  # as sync.server.records.SUBMITTED_STATUSES


def upgrade() -> None:
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted', sa.Boolean(), server_default=sa.false(), nullable=False))
    # Findings kept before: submitted when their status says so now (the statuses they held
    # before are not kept; a finding returned since reads as not submitted, the safe side).
    records = sa.table('records', sa.column('entity', sa.String), sa.column('id', sa.String),
                       sa.column('fields', sa.JSON), sa.column('submitted', sa.Boolean))
    conn = op.get_bind()
    ids = []
    for rid, fields in conn.execute(sa.select(records.c.id, records.c.fields).where(records.c.entity == 'findings')):
        if isinstance(fields, str):
            fields = json.loads(fields)
        if (fields or {}).get('status') in SUBMITTED_STATUSES:
            ids.append(rid)
    for start in range(0, len(ids), 500):
        conn.execute(records.update().where(records.c.entity == 'findings', records.c.id.in_(ids[start:start + 500]))
                     .values(submitted=True))


def downgrade() -> None:
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_column('submitted')
