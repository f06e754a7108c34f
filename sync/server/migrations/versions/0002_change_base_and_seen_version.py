"""changes: the base version a device sent and the platform's version it was made on

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 16:20:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('seen_version', sa.Integer(), server_default='0', nullable=False))
    # Changes kept before: made on the version before the one they produced (what 0001 assumed).
    op.execute("UPDATE changes SET base_version = version - 1, seen_version = version - 1 WHERE version > 0")


def downgrade() -> None:
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.drop_column('seen_version')
        batch_op.drop_column('base_version')
