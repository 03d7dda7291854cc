"""segment set marks: a customer's segment change marks the customer's feedback items

Revision ID: 7f1a8e3f13d3
Revises: e8f23199141b
Create Date: 2026-12-04 09:30:00.000000

Every exported feedback row carries its customer's segment set
(touchpoints.analytics.segment_sets), so adding a customer to a segment or removing one
makes the customer's feedback rows stale: the reinstalled triggers row-mark them (partition
marks above the cap). The schema does not change. Analytics stores written before this
layout are rebuilt by their next export (the marker file names the layout's version).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from touchpoints.analytics.triggers import install_change_tracking

revision: str = "7f1a8e3f13d3"
down_revision: str | None = "e8f23199141b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    install_change_tracking(op.get_bind())


def downgrade() -> None:
    # The triggers of revision 0008: segment changes mark the customers file only.
    install_change_tracking(op.get_bind(), segment_sets=False)
