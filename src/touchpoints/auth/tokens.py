"""API token format and hashing: `tp_<prefix>_<secret>`, stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "tp_"


def generate_token() -> tuple[str, str, str]:
    """Return a new token as (plaintext, prefix, sha256 hash); show plaintext once only."""
    prefix = secrets.token_hex(4)
    plaintext = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return plaintext, prefix, hash_token(plaintext)


def hash_token(plaintext: str) -> str:
    """Hash a token; tokens carry 256 random bits so a fast hash is safe here."""
    return hashlib.sha256(plaintext.encode()).hexdigest()
