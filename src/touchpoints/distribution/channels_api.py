"""Routes the channels need: SMS delivery reports from the provider, and the widget's secret."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

from touchpoints.api.deps import ActorDep, SessionDep, SettingsDep
from touchpoints.distribution import delivery, widget
from touchpoints.distribution.schemas import DeliveryStatusRead, WidgetSecretRead

router = APIRouter(tags=["distribution"])


async def raw_body(request: Request) -> bytes:
    """Return the request body exactly as received (the signature covers these bytes)."""
    return await request.body()


@router.post(
    "/sms/status",
    response_model=DeliveryStatusRead,
    summary="Receive an SMS delivery report",
    openapi_extra={
        "security": [],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["reference", "status"],
                        "properties": {
                            "reference": {"type": "string"},
                            "status": {"type": "string", "enum": ["delivered", "bounced"]},
                            "error": {"type": "string"},
                            "message_id": {"type": "string"},
                        },
                    }
                }
            },
        },
    },
)
def receive_delivery_report(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    body: Annotated[bytes, Depends(raw_body)],
    signature: Annotated[
        str | None, Header(alias="X-Touchpoints-Signature", description="sha256=<hex HMAC>")
    ] = None,
    timestamp: Annotated[
        str | None,
        Header(alias="X-Touchpoints-Timestamp", description="Unix seconds; signed with the body."),
    ] = None,
) -> JSONResponse:
    """Mark an SMS invitation delivered or bounced; the provider calls it, no API token needed.

    Sign `f"{timestamp}.{body}"` with HMAC-SHA256 and `TOUCHPOINTS_SMS_WEBHOOK_SECRET`. Reports
    older than five minutes are refused; the same report sent again changes nothing.
    """
    report = delivery.DeliveryReport(
        path=request.url.path, body=body, signature=signature, timestamp=timestamp
    )
    outcome, replayed = delivery.receive_report(
        db_session=session, settings=settings, report=report
    )
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(outcome.model_dump(mode="json"), headers=headers)


@router.get("/widget/secret", response_model=WidgetSecretRead, summary="Read the widget secret")
def read_widget_secret(
    session: SessionDep, actor: ActorDep, settings: SettingsDep
) -> WidgetSecretRead:
    """Return the secret your backend signs widget openings with (admins); keep it server-side."""
    return widget.read_widget_secret(db_session=session, actor=actor, settings=settings)


@router.post(
    "/widget/secret/rotate", response_model=WidgetSecretRead, summary="Rotate the widget secret"
)
def rotate_widget_secret(
    session: SessionDep, actor: ActorDep, settings: SettingsDep
) -> WidgetSecretRead:
    """Replace the widget secret; openings signed with the old one stop working at once."""
    return widget.rotate_widget_secret(db_session=session, actor=actor, settings=settings)
