"""tasks: import_key and import_source, for re-importing Excel task lists

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 13:10:00

A row of a task list without a task code is matched on re-import by a content key (its title
and region, normalised); `import_source` names the file and sheet a task last came from.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_key', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('import_source', sa.Text(), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_tasks_import_key'), ['import_key'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_import_key'))
        batch_op.drop_column('import_source')
        batch_op.drop_column('import_key')
