"""Pages of this area (being written)."""

from fastapi import APIRouter

router = APIRouter()
