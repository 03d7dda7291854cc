"""The invitation and reminder emails: plain text and HTML, with personal and unsubscribe links."""

from __future__ import annotations

from html import escape

from touchpoints.config import Settings
from touchpoints.customers.models import Customer
from touchpoints.distribution.models import Invitation
from touchpoints.mail import OutgoingEmail
from touchpoints.surveys.models import Survey

INVITATION_TEXT = """\
Hello {name},

We would value your opinion about {survey}. It takes a few minutes:

{answer_url}

This link is personal, please do not share it. It works until {expires}.

To receive no more survey invitations from us: {unsubscribe_url}
"""
REMINDER_TEXT = """\
Hello {name},

A short reminder: we would still value your opinion about {survey}.

{answer_url}

The link works until {expires}. If you have answered already, thank you, and please ignore
this message.

To receive no more survey invitations from us: {unsubscribe_url}
"""


# The HTML part says what the text part says; every inserted value goes through `escape`.
INVITATION_HTML = """\
<p>Hello {name},</p>
<p>We would value your opinion about {survey}. It takes a few minutes.</p>"""
REMINDER_HTML = """\
<p>Hello {name},</p>
<p>A short reminder: we would still value your opinion about {survey}.</p>"""
HTML_PAGE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{subject}</title>
</head>
<body style="margin:0;padding:24px;background:#ffffff;color:#1f2937;\
font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5">
<div role="article" aria-label="{subject}" lang="en" style="max-width:560px;margin:0 auto">
{greeting}
<p style="margin:28px 0">\
<a href="{answer_url}" style="display:inline-block;padding:12px 24px;background:#1d4ed8;\
color:#ffffff;font-weight:bold;text-decoration:none;border-radius:6px">Answer the survey</a></p>
<p>This link is personal, please do not share it. It works until {expires}.</p>
{closing}
<p style="margin-top:32px;font-size:14px;color:#4b5563">To receive no more survey invitations \
from us, <a href="{unsubscribe_url}" style="color:#1d4ed8">unsubscribe</a>.</p>
</div>
</body>
</html>
"""
REMINDER_CLOSING = "<p>If you have answered already, thank you, and please ignore this message.</p>"


def answer_url(settings: Settings, token: str) -> str:
    """Return the address of the personal survey link."""
    return f"{settings.public_url.rstrip('/')}/s/i/{token}"


def unsubscribe_url(settings: Settings, token: str) -> str:
    """Return the address of the unsubscribe page of a personal link."""
    return f"{settings.public_url.rstrip('/')}/unsubscribe/{token}"


def invitation_email(
    settings: Settings,
    *,
    invitation: Invitation,
    survey: Survey,
    customer: Customer,
    token: str,
    reminder: bool,
) -> OutgoingEmail:
    """Return the email inviting (or reminding) a customer to answer a survey."""
    assert invitation.address is not None
    values = {
        "name": customer.display_name or "there",
        "survey": survey.name,
        "answer_url": answer_url(settings, token),
        "unsubscribe_url": unsubscribe_url(settings, token),
        "expires": f"{invitation.expires_at:%d %B %Y}",
    }
    subject = f"Reminder: {survey.name}" if reminder else f"Your opinion on {survey.name}"
    text = (REMINDER_TEXT if reminder else INVITATION_TEXT).format(**values)
    return OutgoingEmail(
        to=invitation.address,
        subject=subject,
        text=text,
        html=invitation_html(subject, values, reminder=reminder),
        unsubscribe_url=values["unsubscribe_url"],
    )


def invitation_html(subject: str, values: dict[str, str], *, reminder: bool) -> str:
    """Return the HTML part of an invitation email, every customer and survey text escaped."""
    safe = {name: escape(value, quote=True) for name, value in values.items()}
    greeting = (REMINDER_HTML if reminder else INVITATION_HTML).format(**safe)
    return HTML_PAGE.format(
        **safe,
        subject=escape(subject, quote=True),
        greeting=greeting,
        closing=REMINDER_CLOSING if reminder else "",
    )
