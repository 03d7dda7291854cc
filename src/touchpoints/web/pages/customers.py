"""Customer pages: a searchable list and the profile with every interaction over time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from touchpoints.api.deps import SessionDep
from touchpoints.customers.directory import DIRECTORY_PAGE, CustomerPage, search_customers
from touchpoints.customers.service import get_customer
from touchpoints.customers.timeline import TIMELINE_PAGE, customer_timeline
from touchpoints.errors import InvalidInput
from touchpoints.orgs.models import OrgUnit
from touchpoints.web.deps import WebCallerDep
from touchpoints.web.rendering import render

router = APIRouter()
PageOffset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.get("/customers")
def customers(
    request: Request,
    caller: WebCallerDep,
    session: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
    offset: PageOffset = 0,
) -> HTMLResponse:
    """List the customers the caller may see, searched by name, email or phone."""
    error = None
    try:
        page = search_customers(db_session=session, actor=caller.principal, q=q, offset=offset)
    except InvalidInput as exc:
        page, error = CustomerPage([], 0, False, False), exc.reason
    template = (
        "pages/customer_results.html"
        if request.headers.get("HX-Target") == "customer-results"
        else "pages/customers.html"
    )
    return render(
        request,
        session,
        caller,
        template,
        title="Customers",
        q=q,
        offset=offset,
        page=page,
        error=error,
        page_size=DIRECTORY_PAGE,
        status_code=422 if error else 200,
    )


@router.get("/customers/{customer_id}")
def customer_profile(
    request: Request,
    customer_id: str,
    caller: WebCallerDep,
    session: SessionDep,
    offset: PageOffset = 0,
) -> HTMLResponse:
    """Show a customer: identities, attributes, consent, segments and their timeline."""
    customer = get_customer(db_session=session, actor=caller.principal, customer_id=customer_id)
    timeline, has_more = customer_timeline(
        db_session=session, actor=caller.principal, customer_id=customer.id, offset=offset
    )
    unit = session.get(OrgUnit, customer.org_unit_id) if customer.org_unit_id else None
    return render(
        request,
        session,
        caller,
        "pages/customer_profile.html",
        title=customer.display_name or "Customer",
        customer=customer,
        org_unit=unit,
        timeline=timeline,
        offset=offset,
        has_more=has_more,
        page_size=TIMELINE_PAGE,
    )
