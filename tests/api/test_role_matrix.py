"""Authorization of every API route: each role against each route, and other tenants' tokens.

ROUTE_PERMISSIONS is the REST API's authorization table. The tests walk the app's routes, so a
new /api/v1 route that is missing from the table fails here until someone decides who may call
it, and a route that was removed fails until its row goes too.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from httpx import Response
from sqlalchemy.orm import Session

from tests.conftest import Caller, MakeCaller
from tests.distribution.samples import survey_samples
from tests.factories.customers import make_customer, make_segment
from tests.factories.feedback import make_feedback_item
from tests.factories.jobs import make_job
from tests.factories.journeys import make_journey, make_touchpoint
from tests.factories.operations import make_event
from tests.factories.orgs import make_member_with_token, make_org_unit, make_workspace
from tests.surveys.samples import checkout
from touchpoints.api.app import API_PREFIX
from touchpoints.api.problems import PROBLEM_MEDIA_TYPE
from touchpoints.auth.permissions import ROLE_PERMISSIONS, Permission, Principal, Role
from touchpoints.auth.service import issue_token
from touchpoints.imports.models import ImportRun, QuarantinedRow
from touchpoints.ingest.models import WebhookKind
from touchpoints.ingest.schemas import WebhookSourceCreate
from touchpoints.ingest.webhooks import create_source
from touchpoints.jobs.models import JobStatus

P = Permission
EVERY_MEMBER = None  # any member of the workspace may call it

# The permission each API route needs: (method, path template) -> Permission or EVERY_MEMBER.
ROUTE_PERMISSIONS: dict[tuple[str, str], Permission | None] = {
    ("GET", "/workspace"): P.WORKSPACE_READ,
    ("GET", "/workspaces/{workspace_id}"): P.WORKSPACE_READ,
    ("GET", "/org-units"): P.WORKSPACE_READ,
    ("POST", "/org-units"): P.WORKSPACE_MANAGE,
    ("GET", "/org-units/{org_unit_id}"): P.WORKSPACE_READ,
    ("PATCH", "/org-units/{org_unit_id}"): P.WORKSPACE_MANAGE,
    ("DELETE", "/org-units/{org_unit_id}"): P.WORKSPACE_MANAGE,
    ("GET", "/me"): EVERY_MEMBER,
    ("GET", "/users"): P.USERS_MANAGE,
    ("POST", "/users"): P.USERS_MANAGE,
    # Reading yourself needs nothing; the matrix reads another member.
    ("GET", "/users/{user_id}"): P.USERS_MANAGE,
    ("PATCH", "/users/{user_id}"): P.USERS_MANAGE,
    ("DELETE", "/users/{user_id}"): P.USERS_MANAGE,
    ("GET", "/tokens"): P.TOKENS_MANAGE,
    ("POST", "/tokens"): P.TOKENS_MANAGE,
    ("DELETE", "/tokens/{token_id}"): P.TOKENS_MANAGE,
    ("GET", "/customers"): P.CUSTOMERS_READ,
    ("POST", "/customers"): P.CUSTOMERS_WRITE,
    ("GET", "/customers/{customer_id}"): P.CUSTOMERS_READ,
    ("PATCH", "/customers/{customer_id}"): P.CUSTOMERS_WRITE,
    ("DELETE", "/customers/{customer_id}"): P.CUSTOMERS_WRITE,
    ("POST", "/customers/{customer_id}/identities"): P.CUSTOMERS_WRITE,
    ("DELETE", "/customers/{customer_id}/identities/{identity_id}"): P.CUSTOMERS_WRITE,
    ("GET", "/segments"): P.CUSTOMERS_READ,
    ("POST", "/segments"): P.CUSTOMERS_WRITE,
    ("GET", "/segments/{segment_id}"): P.CUSTOMERS_READ,
    ("PATCH", "/segments/{segment_id}"): P.CUSTOMERS_WRITE,
    ("DELETE", "/segments/{segment_id}"): P.CUSTOMERS_WRITE,
    ("PUT", "/segments/{segment_id}/customers/{customer_id}"): P.CUSTOMERS_WRITE,
    ("DELETE", "/segments/{segment_id}/customers/{customer_id}"): P.CUSTOMERS_WRITE,
    ("GET", "/journeys"): P.JOURNEYS_READ,
    ("POST", "/journeys"): P.JOURNEYS_WRITE,
    ("GET", "/journeys/{journey_id}"): P.JOURNEYS_READ,
    ("PATCH", "/journeys/{journey_id}"): P.JOURNEYS_WRITE,
    ("DELETE", "/journeys/{journey_id}"): P.JOURNEYS_WRITE,
    ("POST", "/journeys/{journey_id}/stages"): P.JOURNEYS_WRITE,
    ("PATCH", "/journeys/{journey_id}/stages/{stage_id}"): P.JOURNEYS_WRITE,
    ("DELETE", "/journeys/{journey_id}/stages/{stage_id}"): P.JOURNEYS_WRITE,
    ("GET", "/touchpoints"): P.JOURNEYS_READ,
    ("POST", "/touchpoints"): P.JOURNEYS_WRITE,
    ("GET", "/touchpoints/{touchpoint_id}"): P.JOURNEYS_READ,
    ("PATCH", "/touchpoints/{touchpoint_id}"): P.JOURNEYS_WRITE,
    ("DELETE", "/touchpoints/{touchpoint_id}"): P.JOURNEYS_WRITE,
    ("GET", "/feedback"): P.FEEDBACK_READ,
    ("POST", "/feedback"): P.FEEDBACK_WRITE,
    ("GET", "/feedback/{feedback_id}"): P.FEEDBACK_READ,
    ("PATCH", "/feedback/{feedback_id}"): P.FEEDBACK_WRITE,
    ("DELETE", "/feedback/{feedback_id}"): P.FEEDBACK_WRITE,
    ("GET", "/events"): P.EVENTS_READ,
    ("POST", "/events"): P.EVENTS_WRITE,
    ("GET", "/events/{event_id}"): P.EVENTS_READ,
    ("PATCH", "/events/{event_id}"): P.EVENTS_WRITE,
    ("DELETE", "/events/{event_id}"): P.EVENTS_WRITE,
    ("GET", "/jobs"): P.JOBS_READ,
    ("GET", "/jobs/{job_id}"): P.JOBS_READ,
    ("POST", "/jobs/{job_id}/retry"): P.JOBS_MANAGE,
    ("GET", "/surveys"): P.SURVEYS_READ,
    ("POST", "/surveys"): P.SURVEYS_WRITE,
    ("POST", "/surveys/import"): P.SURVEYS_WRITE,
    ("GET", "/surveys/{survey_id}"): P.SURVEYS_READ,
    ("PATCH", "/surveys/{survey_id}"): P.SURVEYS_WRITE,
    ("POST", "/surveys/{survey_id}/publish"): P.SURVEYS_WRITE,
    ("GET", "/surveys/{survey_id}/versions"): P.SURVEYS_READ,
    ("GET", "/surveys/{survey_id}/versions/{number}"): P.SURVEYS_READ,
    ("GET", "/surveys/{survey_id}/export"): P.SURVEYS_READ,
    ("POST", "/surveys/{survey_id}/links"): P.SURVEYS_WRITE,
    ("GET", "/surveys/{survey_id}/links"): P.SURVEYS_READ,
    # Before close: only an active survey takes invitations.
    ("POST", "/surveys/{survey_id}/invitations"): P.SURVEYS_WRITE,
    ("GET", "/surveys/{survey_id}/invitations"): P.SURVEYS_READ,
    ("GET", "/surveys/{survey_id}/response-rates"): P.SURVEYS_READ,
    ("GET", "/surveys/{survey_id}/links/{link_id}/qr.png"): P.SURVEYS_READ,
    ("GET", "/surveys/{survey_id}/links/{link_id}/qr.svg"): P.SURVEYS_READ,
    ("GET", "/widget/secret"): P.TOKENS_MANAGE,
    ("POST", "/widget/secret/rotate"): P.TOKENS_MANAGE,
    ("POST", "/surveys/{survey_id}/close"): P.SURVEYS_WRITE,
    ("POST", "/ingest/feedback"): P.FEEDBACK_WRITE,
    ("POST", "/ingest/events"): P.EVENTS_WRITE,
    ("POST", "/ingest/customers"): P.CUSTOMERS_WRITE,
    ("GET", "/ingest/sources"): P.TOKENS_MANAGE,
    ("POST", "/ingest/sources"): P.TOKENS_MANAGE,
    ("DELETE", "/ingest/sources/{source_id}"): P.TOKENS_MANAGE,
    ("POST", "/customers/{survivor_id}/merge"): P.CUSTOMERS_WRITE,
    # Imports need the write permission of their kind; every sample here is feedback.
    ("POST", "/imports"): P.FEEDBACK_WRITE,
    ("GET", "/imports"): P.FEEDBACK_WRITE,
    ("GET", "/imports/{run_id}"): P.FEEDBACK_WRITE,
    ("GET", "/imports/{run_id}/quarantine"): P.FEEDBACK_WRITE,
    ("PATCH", "/quarantine/{row_id}"): P.FEEDBACK_WRITE,
    ("POST", "/imports/{run_id}/replay"): P.FEEDBACK_WRITE,
    ("GET", "/metrics"): P.FEEDBACK_READ,
    ("GET", "/metrics/{metric}"): P.FEEDBACK_READ,
    ("POST", "/metrics/query"): P.FEEDBACK_READ,
    ("GET", "/outcomes"): P.FEEDBACK_READ,
}
# Routes that take no API token; tests/ingest/test_webhooks.py proves their own checks.
PUBLIC_ROUTES = {("POST", "/ingest/webhooks/{source_id}"), ("POST", "/sms/status")}

OCCURRED_AT = "2024-05-01T09:30:00+02:00"
# A minimal valid body for each write, so a refusal is about the role, never the input.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/org-units"): {"code": "matrix-unit", "name": "Matrix unit"},
    ("PATCH", "/org-units/{org_unit_id}"): {"name": "Renamed unit"},
    ("POST", "/users"): {"email": "new.member@example.com", "display_name": "New member"},
    ("PATCH", "/users/{user_id}"): {"display_name": "Renamed member"},
    ("POST", "/tokens"): {"name": "matrix"},
    ("POST", "/customers"): {"display_name": "New customer"},
    ("PATCH", "/customers/{customer_id}"): {"display_name": "Renamed customer"},
    ("POST", "/customers/{customer_id}/identities"): {
        "kind": "email",
        "value": "second.address@example.com",
    },
    ("POST", "/segments"): {"name": "Matrix segment"},
    ("PATCH", "/segments/{segment_id}"): {"name": "Renamed segment"},
    ("POST", "/journeys"): {"name": "Matrix journey", "stages": ["awareness"]},
    ("PATCH", "/journeys/{journey_id}"): {"description": "Changed"},
    ("POST", "/journeys/{journey_id}/stages"): {"name": "matrix stage"},
    ("PATCH", "/journeys/{journey_id}/stages/{stage_id}"): {"name": "renamed stage"},
    ("POST", "/touchpoints"): {
        "name": "Matrix touchpoint",
        "channel": "web",
        "owner_department": "service",
    },
    ("PATCH", "/touchpoints/{touchpoint_id}"): {"controllable": False},
    ("POST", "/feedback"): {"occurred_at": OCCURRED_AT, "text": "Quick checkout."},
    ("PATCH", "/feedback/{feedback_id}"): {"title": "Checkout"},
    ("POST", "/events"): {"type": "digital", "name": "login", "occurred_at": OCCURRED_AT},
    ("PATCH", "/events/{event_id}"): {"name": "logout"},
    ("POST", "/surveys"): {"definition": checkout()},
    ("POST", "/surveys/import"): checkout(),  # JSON is YAML too
    ("PATCH", "/surveys/{survey_id}"): {"definition": checkout(name="Renamed survey")},
    ("POST", "/surveys/{survey_id}/links"): {"channel": "email"},
    ("POST", "/surveys/{survey_id}/invitations"): {"segment_id": "{segment_id}"},
    ("POST", "/ingest/feedback"): {"items": [{"occurred_at": OCCURRED_AT, "text": "Fine."}]},
    ("POST", "/ingest/events"): {
        "items": [{"type": "digital", "name": "login", "occurred_at": OCCURRED_AT}]
    },
    ("POST", "/ingest/customers"): {"items": [{"email": "batch.customer@example.com"}]},
    ("POST", "/ingest/sources"): {"name": "matrix", "kind": "feedback"},
    # "{name}" in a body value stands for that sample object's id.
    ("POST", "/customers/{survivor_id}/merge"): {"duplicate_id": "{duplicate_id}"},
    ("PATCH", "/quarantine/{row_id}"): {"status": "discarded"},
    ("POST", "/metrics/query"): {"metric": "nps"},
}
# Uploads are multipart forms, not JSON.
UPLOADS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/imports"): {
        "files": {"file": ("matrix.csv", b"occurred_at,text\n2024-05-01T09:30:00Z,Fine.\n")},
        "data": {"kind": "feedback"},
    },
}
PATH_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Return (method, path below the API prefix) of every route under the API prefix."""
    # Included routers are lazy nodes in app.routes; iter_route_contexts flattens them.
    paths = {
        (context.path or "", method)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        for method in context.methods or ()
    }
    return {
        (method, path.removeprefix(API_PREFIX))
        for path, method in paths
        if path.startswith(f"{API_PREFIX}/")
    }


def call_order() -> list[tuple[str, str]]:
    """Return the routes with deletes last, nested objects before the objects holding them."""

    def position(route: tuple[str, str]) -> tuple[bool, int]:
        method, path = route
        return method == "DELETE", -path.count("/") if method == "DELETE" else 0

    return sorted(ROUTE_PERMISSIONS, key=position)


def fill(path: str, values: dict[str, str]) -> str:
    """Put sample ids into a route's path parameters."""
    names = PATH_PARAMETER.findall(path)
    missing = [name for name in names if name not in values]
    assert not missing, f"{path}: add a sample object for {missing} to `build_objects`"
    return API_PREFIX + PATH_PARAMETER.sub(lambda match: values[match.group(1)], path)


def call(caller: Caller, route: tuple[str, str], values: dict[str, str]) -> Response:
    """Call one route as the caller, with the route's minimal body if it takes one."""
    method, path = route
    if route in UPLOADS:
        upload: Response = caller.http.request(method, fill(path, values), **UPLOADS[route])
        return upload
    body = BODIES.get(route)
    if body is not None:
        body = {
            key: PATH_PARAMETER.sub(lambda match: values[match.group(1)], value)
            if isinstance(value, str)
            else value
            for key, value in body.items()
        }
    response: Response = caller.http.request(method, fill(path, values), json=body)
    return response


def build_objects(db_session: Session, workspace_id: str) -> dict[str, str]:
    """Create one object of every kind the API's paths name; return the path values."""
    leaf_unit = make_org_unit(db_session, workspace_id=workspace_id)
    other, _ = make_member_with_token(db_session, workspace_id=workspace_id, role=Role.VIEWER)
    token, _ = issue_token(
        db_session=db_session, workspace_id=workspace_id, user_id=other.user_id, name="ci"
    )
    customer = make_customer(db_session, workspace_id=workspace_id)
    source = create_source(
        db_session=db_session,
        actor=Principal(workspace_id=workspace_id, user_id=other.user_id, role=Role.ADMIN),
        source_in=WebhookSourceCreate(name="matrix-source", kind=WebhookKind.EVENTS),
    )
    journey = make_journey(db_session, workspace_id=workspace_id)
    values = {
        "workspace_id": workspace_id,
        "org_unit_id": leaf_unit.id,
        "user_id": other.user_id,
        "token_id": token.id,
        "customer_id": customer.id,
        "survivor_id": customer.id,
        "duplicate_id": make_customer(db_session, workspace_id=workspace_id).id,
        "source_id": source.id,
        "identity_id": customer.identities[0].id,
        "segment_id": make_segment(db_session, workspace_id=workspace_id).id,
        "journey_id": journey.id,
        "stage_id": journey.stages[0].id,
        "touchpoint_id": make_touchpoint(db_session, workspace_id=workspace_id).id,
        "feedback_id": make_feedback_item(db_session, workspace_id=workspace_id).id,
        "event_id": make_event(db_session, workspace_id=workspace_id).id,
        "job_id": make_job(db_session, workspace_id=workspace_id, status=JobStatus.DEAD).id,
        **survey_samples(db_session, workspace_id),
        "number": "1",
        "metric": "nps",  # a metric name, the same in every workspace
        **_import_samples(db_session, workspace_id),
    }
    db_session.commit()
    return values


def _import_samples(db_session: Session, workspace_id: str) -> dict[str, str]:
    run = ImportRun(
        workspace_id=workspace_id,
        kind="feedback",
        format="csv",
        file_name="sample.csv",
        file_sha256="0" * 64,
        status="completed",
    )
    db_session.add(run)
    db_session.flush()
    row = QuarantinedRow(
        workspace_id=workspace_id,
        run_id=run.id,
        line=2,
        raw={"text": ""},
        errors=[{"field": "text", "reason": "empty"}],
    )
    db_session.add(row)
    db_session.flush()
    return {"run_id": run.id, "row_id": row.id}


def is_problem(response: Response) -> bool:
    """Tell whether an answer is problem+json."""
    content_type = str(response.headers.get("content-type", ""))
    return content_type.startswith(PROBLEM_MEDIA_TYPE)


def test_every_api_route_has_an_authorization_decision(shared_app: FastAPI) -> None:
    routes = api_routes(shared_app)
    undecided = routes - ROUTE_PERMISSIONS.keys() - PUBLIC_ROUTES
    assert not undecided, f"decide who may call these in ROUTE_PERMISSIONS: {sorted(undecided)}"
    gone = ROUTE_PERMISSIONS.keys() - routes
    assert not gone, f"these routes no longer exist; remove them from the table: {sorted(gone)}"
    stale_bodies = BODIES.keys() - routes
    assert not stale_bodies, f"bodies for routes that no longer exist: {sorted(stale_bodies)}"


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_each_role_is_allowed_or_refused_as_the_table_says(
    role: Role, make_caller: MakeCaller, db_session: Session
) -> None:
    workspace_id = make_workspace(db_session).id
    caller = make_caller(role, workspace_id=workspace_id)
    values = build_objects(db_session, workspace_id)
    granted = ROLE_PERMISSIONS[role]
    wrong = []
    for route in call_order():
        needed = ROUTE_PERMISSIONS[route]
        response = call(caller, route, values)
        got = response.status_code
        if needed is not None and needed not in granted:
            if got != 403 or not is_problem(response):
                wrong.append(f"{route}: {got} {response.text[:120]}, expected a 403 problem")
        elif not 200 <= got < 300:
            wrong.append(f"{route}: {got} {response.text[:120]}, expected success")
    assert not wrong, f"{role.value}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_other_workspaces_objects_are_not_found(
    role: Role, make_caller: MakeCaller, db_session: Session
) -> None:
    workspace_id = make_workspace(db_session).id
    owner = make_caller(Role.ADMIN, workspace_id=workspace_id)
    values = build_objects(db_session, workspace_id)
    stranger = make_caller(role)
    granted = ROLE_PERMISSIONS[role]
    # A metric name is nobody's object: /metrics/nps exists in every workspace.
    with_ids = [
        route
        for route in call_order()
        if PATH_PARAMETER.search(route[1]) and route != ("GET", "/metrics/{metric}")
    ]
    wrong = []
    for route in with_ids:
        needed = ROUTE_PERMISSIONS[route]
        # The role check comes first; past it, only the tenant boundary can refuse.
        expected = 403 if needed is not None and needed not in granted else 404
        response = call(stranger, route, values)
        if response.status_code != expected or not is_problem(response):
            wrong.append(f"{route}: {response.status_code} {response.text[:120]}, not {expected}")
    assert not wrong, f"another workspace's {role.value}:\n" + "\n".join(wrong)
    for route in with_ids:
        if route[0] == "GET":
            assert call(owner, route, values).status_code == 200, f"{route} vanished"
