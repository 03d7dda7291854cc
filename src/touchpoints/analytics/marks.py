"""What each write marks stale in the analytics store: the rules the change triggers follow.

A write leaves marks of two kinds (touchpoints.analytics.changes):

- a row mark names one changed feedback item or operational event and the month partition
  it was in (before the write) or is in (after it): inserts, updates and deletes of
  `feedback_items` and `operational_events`. An item moved to another month marks its id in
  both months; the exporter merges both partitions from their files.
- a partition mark names a whole partition: a workspace's month (`YYYY-MM`), `all` for the
  unpartitioned datasets, or `*` for every month of the workspace (a touchpoint moved to
  another stage changes the denormalised stage of all its feedback). Changes to the other
  tables leave partition marks. A survey response linked to an item (or relinked, or
  deleted) row-marks the item (both items when it moves), since it sets the item's survey. A
  customer added to or removed from a segment row-marks every feedback item of the customer,
  since each item carries its customer's segment set (touchpoints.analytics.segment_sets).

Row marks are capped: a statement that changes more than `ROW_MARK_CAP` rows, or a write
while the row-mark log already holds `ROW_MARK_CAP` marks (measured as the span of their ids,
oldest to newest, exported or not), leaves partition marks instead. A bulk load so writes at
most that many row marks, whatever its size and however its rows spread over months, and
its partitions are rewritten. A partition that has an unclaimed partition mark gets no more
row marks: on SQLite (one writer at a time) that mark is certain to cover the write; on
PostgreSQL the write adds its own partition mark instead (touchpoints.analytics.triggers says
why).
"""

from __future__ import annotations

from dataclasses import dataclass

CHANGES_TABLE = "analytics_changes"
ROW_CHANGES_TABLE = "analytics_row_changes"
TRIGGER_PREFIX = "analytics_mark"
# The month of a mark that stands for every month of its workspace.
EVERY_MONTH = "*"
# Above this many rows per statement, or row marks in the log, writes mark partitions.
ROW_MARK_CAP = 50_000


@dataclass(frozen=True)
class Mark:
    """A partition that a changed row makes stale.

    `{row}` in the SQL stands for the changed row. `occurred` is the time column whose UTC
    month names the partition; without it the partition is `fixed` ('all' or '*'). `source`
    and `link` look another table up (the feedback item a survey response points at).
    `row_id` names the changed row's id when the mark is a row mark (subject to the cap).
    """

    dataset: str
    workspace: str
    occurred: str | None = None
    fixed: str | None = None
    source: str | None = None
    link: str | None = None
    # Update triggers mark only when one of these columns changed.
    when_changed: tuple[str, ...] = ()
    # Only updates make this partition stale (inserts and deletes reach it another way).
    update_only: bool = False
    # No mark when the old image (`{old}`) matches this: e.g. an org unit whose path was still
    # empty was being created, and nothing can point at it yet.
    unless_old: str = ""
    row_id: str | None = None
    # One changed row marks many linked rows (a customer's items): the cap counts them all.
    fans_out: bool = False
    # What a statement above the cap marks instead (PostgreSQL), when finding the partitions
    # of every linked row would cost more than rewriting them all.
    bulk: Mark | None = None

    def changed(self, old: str, new: str, *, distinct: str) -> str:
        """Return the SQL condition under which an update makes this partition stale."""
        if not self.when_changed:
            return ""
        changed = " OR ".join(f"{old}.{c} {distinct} {new}.{c}" for c in self.when_changed)
        unless = f" AND NOT ({self.unless_old.format(old=old)})" if self.unless_old else ""
        return f"({changed}){unless}"

    @property
    def moves(self) -> bool:
        """Tell whether an update can move the row to another partition (mark old and new)."""
        return self.occurred is not None or self.source is not None


def _row(
    dataset: str, fixed: str, when_changed: tuple[str, ...] = (), unless_old: str = ""
) -> Mark:
    return Mark(
        dataset,
        "{row}.workspace_id",
        fixed=fixed,
        when_changed=when_changed,
        update_only=bool(when_changed),
        unless_old=unless_old,
    )


# A unit is inserted with an empty path, then given its path (touchpoints.orgs.service).
_NEW_UNIT = "{old}.path = ''"


_BY_MONTH = "{row}.occurred_at"
# The items of a customer whose segments changed: found by (workspace, customer), the index
# feedback items have, through the customer's workspace.
CUSTOMER_ITEMS = Mark(
    "feedback",
    "f.workspace_id",
    occurred="f.occurred_at",
    source="customers c JOIN feedback_items f "
    "ON f.workspace_id = c.workspace_id AND f.customer_id = c.id",
    link="c.id = {row}.customer_id",
    row_id="f.id",
    fans_out=True,
    # Deleting a big segment: every month of the workspace, without joining to the items.
    bulk=Mark(
        "feedback",
        "c.workspace_id",
        fixed=EVERY_MONTH,
        source="customers c",
        link="c.id = {row}.customer_id",
    ),
)
SOURCES: dict[str, tuple[Mark, ...]] = {
    "feedback_items": (
        Mark("feedback", "{row}.workspace_id", occurred=_BY_MONTH, row_id="{row}.id"),
    ),
    "operational_events": (
        Mark("events", "{row}.workspace_id", occurred=_BY_MONTH, row_id="{row}.id"),
    ),
    "customers": (_row("customers", "all"),),
    "customer_segments": (
        Mark(
            "customers",
            "c.workspace_id",
            fixed="all",
            source="customers c",
            link="c.id = {row}.customer_id",
        ),
        CUSTOMER_ITEMS,
    ),
    "segments": (_row("customers", "all", when_changed=("name",)),),
    "touchpoints": (
        _row("touchpoints", "all"),
        _row("feedback", EVERY_MONTH, when_changed=("stage_id",)),
    ),
    "journey_stages": (
        _row("touchpoints", "all"),
        _row("feedback", EVERY_MONTH, when_changed=("journey_id",)),
    ),
    "journeys": (_row("touchpoints", "all"),),
    "org_units": (
        _row("org_units", "all"),
        _row("feedback", EVERY_MONTH, when_changed=("path",), unless_old=_NEW_UNIT),
        _row("events", EVERY_MONTH, when_changed=("path",), unless_old=_NEW_UNIT),
        _row("customers", "all", when_changed=("path",), unless_old=_NEW_UNIT),
    ),
    "survey_responses": (
        Mark(
            "feedback",
            "f.workspace_id",
            occurred="f.occurred_at",
            source="feedback_items f",
            link="f.id = {row}.feedback_item_id",
            when_changed=("feedback_item_id", "survey_id"),
            # Every completed survey links its response: mark the linked item, not the month.
            row_id="f.id",
        ),
    ),
}
# Inserting into these cannot change an exported row: a new segment, journey or stage is empty.
UPDATE_DELETE_ONLY = frozenset({"segments", "journeys", "journey_stages"})
# Updates matter only when these columns are set (responses are saved page by page).
UPDATE_OF: dict[str, tuple[str, ...]] = {
    "survey_responses": ("feedback_item_id", "survey_id"),
    "segments": ("name",),
}
EVENTS = ("insert", "update", "delete")
# The datasets that get row marks (and so can be merged rather than rewritten).
ROW_MARKED = frozenset(
    mark.dataset for marks in SOURCES.values() for mark in marks if mark.row_id is not None
)


def marking_rules(*, segment_sets: bool = True) -> dict[str, tuple[Mark, ...]]:
    """Return the marking rules; without `segment_sets`, those before revision 0009."""
    if segment_sets:
        return SOURCES
    return {
        table: tuple(m for m in marks if m is not CUSTOMER_ITEMS)
        for table, marks in SOURCES.items()
    }


def source_tables() -> list[str]:
    """Return the tables whose writes mark analytics partitions stale."""
    return list(SOURCES)


def table_events(table: str) -> tuple[str, ...]:
    """Return the events (insert, update, delete) of a table that can leave marks."""
    return EVENTS[1:] if table in UPDATE_DELETE_ONLY else EVENTS


def trigger_name(table: str, event: str) -> str:
    """Return the name of a table's change trigger for one event."""
    return f"{TRIGGER_PREFIX}_{table}_{event}"
