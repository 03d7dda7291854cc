"""The demo workspace itself: stations, staff, journeys, touchpoints and segments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Role
from touchpoints.auth.service import create_member
from touchpoints.demo.bulk import Row, table
from touchpoints.demo.company import (
    COMPANY_NAME,
    JOURNEYS,
    REGIONS,
    SEGMENTS,
    STAFF,
    TOUCHPOINTS,
    WORKSPACE_NAME,
)
from touchpoints.demo.timeline import IdFactory, to_datetime
from touchpoints.orgs.service import build_org_unit, create_workspace


@dataclass(frozen=True)
class Company:
    """Ids of what the demo workspace was set up with."""

    workspace_id: str
    region_ids: dict[str, str]
    station_ids: tuple[str, ...]
    touchpoint_ids: tuple[str, ...]
    segment_ids: dict[str, str]

    @property
    def org_units(self) -> int:
        """Return how many org units (regions and stations) there are."""
        return len(self.region_ids) + len(self.station_ids)


@dataclass(frozen=True)
class Staff:
    """Who signs in to the demo: the admin and the password every demo user shares."""

    admin_email: str
    password: str


def set_up_company(
    session: Session, *, slug: str, staff: Staff, ids: IdFactory, since: int, about: dict[str, Any]
) -> Company:
    """Create the workspace, its org units, users, journeys, touchpoints and segments."""
    workspace = create_workspace(
        db_session=session,
        slug=slug,
        name=WORKSPACE_NAME,
        settings={"default_phone_region": "GB", "demo": {"company": COMPANY_NAME, **about}},
    )
    region_ids, station_ids = _org_units(session, workspace.id)
    _staff(session, workspace.id, staff, {**region_ids, **station_ids})
    touchpoint_ids = _journeys(session, workspace.id, ids, since)
    return Company(
        workspace_id=workspace.id,
        region_ids=region_ids,
        station_ids=tuple(station_ids.values()),
        touchpoint_ids=touchpoint_ids,
        segment_ids=_segments(session, workspace.id, ids, since),
    )


def _org_units(session: Session, workspace_id: str) -> tuple[dict[str, str], dict[str, str]]:
    regions: dict[str, str] = {}
    stations: dict[str, str] = {}
    for region in REGIONS:
        parent = build_org_unit(
            db_session=session,
            workspace_id=workspace_id,
            code=region.code,
            name=region.name,
            kind="region",
        )
        regions[region.code] = parent.id
        for station in region.stations:
            unit = build_org_unit(
                db_session=session,
                workspace_id=workspace_id,
                code=station.code,
                name=station.name,
                kind="station",
                parent_id=parent.id,
            )
            stations[station.code] = unit.id
    return regions, stations


def _staff(session: Session, workspace_id: str, staff: Staff, units: dict[str, str]) -> None:
    # The admin comes first: tools that look for "the first admin" find this one.
    create_member(
        db_session=session,
        workspace_id=workspace_id,
        email=staff.admin_email,
        display_name="Demo Admin",
        role=Role.ADMIN,
        password=staff.password,
    )
    domain = staff.admin_email.rsplit("@", 1)[-1]
    for person in STAFF:
        create_member(
            db_session=session,
            workspace_id=workspace_id,
            email=f"{person.local_part}@{domain}",
            display_name=person.display_name,
            role=person.role,
            org_unit_id=units[person.scope] if person.scope else None,
            password=staff.password,
        )


def _journeys(session: Session, workspace_id: str, ids: IdFactory, since: int) -> tuple[str, ...]:
    stamp = {"workspace_id": workspace_id, "created_at": to_datetime(since)}
    stamp["updated_at"] = stamp["created_at"]
    journey_ids = ids.ids("journeys", len(JOURNEYS))
    stage_names = [(j, name) for j, journey in enumerate(JOURNEYS) for name in journey.stages]
    stage_ids = dict(zip(stage_names, ids.ids("journey_stages", len(stage_names)), strict=True))
    journeys: list[Row] = [
        {"id": journey_ids[j], "name": journey.name, "description": journey.description, **stamp}
        for j, journey in enumerate(JOURNEYS)
    ]
    stages: list[Row] = [
        {
            "id": stage_ids[j, name],
            "journey_id": journey_ids[j],
            "name": name,
            "position": p,
            **stamp,
        }
        for j, journey in enumerate(JOURNEYS)
        for p, name in enumerate(journey.stages)
    ]
    stage_by_name = {name: stage_id for (_, name), stage_id in stage_ids.items()}
    touchpoint_ids = ids.ids("touchpoints", len(TOUCHPOINTS))
    touchpoints: list[Row] = [
        {
            "id": touchpoint_id,
            "stage_id": stage_by_name[tp.stage],
            "name": tp.name,
            "description": tp.description,
            "channel": tp.channel.value,
            "owner_department": tp.owner,
            "controllable": tp.controllable,
            **stamp,
        }
        for touchpoint_id, tp in zip(touchpoint_ids, TOUCHPOINTS, strict=True)
    ]
    session.execute(insert(table("journeys")), journeys)
    session.execute(insert(table("journey_stages")), stages)
    session.execute(insert(table("touchpoints")), touchpoints)
    return tuple(touchpoint_ids)


def _segments(session: Session, workspace_id: str, ids: IdFactory, since: int) -> dict[str, str]:
    created = to_datetime(since)
    segment_ids = dict(
        zip((s.key for s in SEGMENTS), ids.ids("segments", len(SEGMENTS)), strict=True)
    )
    rows: list[Row] = [
        {
            "id": segment_ids[segment.key],
            "workspace_id": workspace_id,
            "name": segment.name,
            "description": segment.description,
            "created_at": created,
            "updated_at": created,
        }
        for segment in SEGMENTS
    ]
    session.execute(insert(table("segments")), rows)
    return segment_ids
