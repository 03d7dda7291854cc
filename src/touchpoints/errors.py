"""Errors a caller can cause; the API turns each into a problem+json answer (RFC 9457)."""

from __future__ import annotations


class TouchpointsError(Exception):
    """Base of every error the platform reports to its caller."""

    status_code = 400
    title = "Bad request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(TouchpointsError):
    """The object does not exist in the caller's workspace (or is outside their scope)."""

    status_code = 404
    title = "Not found"


class PermissionDenied(TouchpointsError):
    """The caller's role does not allow the action."""

    status_code = 403
    title = "Forbidden"


class Unauthenticated(TouchpointsError):
    """No valid credentials were presented."""

    status_code = 401
    title = "Unauthorized"


class Conflict(TouchpointsError):
    """The write clashes with existing data (a duplicate identity, a name taken)."""

    status_code = 409
    title = "Conflict"


class InvalidInput(TouchpointsError):
    """A field has a value the platform cannot accept; names the field and the reason."""

    status_code = 422
    title = "Invalid input"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
