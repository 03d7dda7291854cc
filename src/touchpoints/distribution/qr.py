"""QR codes (PNG and SVG) of a survey's public link, for posters, receipts and screens."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

import segno
from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Principal
from touchpoints.config import Settings
from touchpoints.errors import NotFound
from touchpoints.surveys.models import SurveyLink
from touchpoints.surveys.service import get_survey

MIN_SCALE, MAX_SCALE, DEFAULT_SCALE = 1, 40, 10
MIN_BORDER, MAX_BORDER, DEFAULT_BORDER = 0, 16, 4
# Level M survives about 15 % damage: enough for print, still a small symbol.
ERROR_CORRECTION = "m"
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
QrKind = Literal["png", "svg"]


@dataclass(frozen=True)
class LinkQr:
    """A rendered QR code of one survey link."""

    link: SurveyLink
    url: str
    image: bytes
    media_type: str


def link_url(settings: Settings, link: SurveyLink) -> str:
    """Return the public address a link's QR code encodes."""
    return f"{settings.public_url.rstrip('/')}/s/{link.token}"


def render_qr(url: str, *, kind: QrKind, scale: int, border: int) -> bytes:
    """Return the QR code of `url` as PNG or SVG bytes (scale: pixels per module)."""
    code = segno.make(url, error=ERROR_CORRECTION, micro=False)
    out = io.BytesIO()
    if kind == "svg":
        code.save(out, kind="svg", scale=scale, border=border, title=f"QR code for {url}")
    else:
        code.save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def link_qr(
    *,
    db_session: Session,
    actor: Principal,
    settings: Settings,
    survey_id: str,
    link_id: str,
    kind: QrKind,
    scale: int = DEFAULT_SCALE,
    border: int = DEFAULT_BORDER,
) -> LinkQr:
    """Return the QR code of one public link of a survey in the caller's workspace."""
    survey = get_survey(db_session=db_session, actor=actor, survey_id=survey_id)
    link = db_session.get(SurveyLink, link_id)
    if link is None or link.survey_id != survey.id:
        raise NotFound(f"survey {survey.id} has no link {link_id}")
    url = link_url(settings, link)
    image = render_qr(url, kind=kind, scale=scale, border=border)
    return LinkQr(link=link, url=url, image=image, media_type=MEDIA_TYPES[kind])
