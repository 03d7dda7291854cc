"""Import every ORM module so the metadata knows the whole schema."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

MODEL_MODULES = (
    "touchpoints.orgs.models",
    "touchpoints.auth.models",
    "touchpoints.customers.models",
    "touchpoints.journeys.models",
    "touchpoints.feedback.models",
    "touchpoints.operations.models",
    "touchpoints.jobs.models",
    "touchpoints.idempotency.models",
    "touchpoints.audit.models",
    "touchpoints.ingest.models",
    "touchpoints.surveys.models",
    "touchpoints.imports.models",
    "touchpoints.distribution.models",
    "touchpoints.analytics.changes",
)


def load_metadata() -> MetaData:
    """Import all model modules and return the complete metadata."""
    for module in MODEL_MODULES:
        importlib.import_module(module)
    from touchpoints.db.base import Base

    return Base.metadata
