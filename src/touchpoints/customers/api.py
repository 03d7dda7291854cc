"""Routes of this domain (being written)."""

from fastapi import APIRouter

router = APIRouter()
