"""Verification codes: random, URL-safe, and easy to type from paper.

16 characters of Crockford's base32 (digits and capitals without I, L, O, U) carry 80 random bits.
A document prints them in groups of four (7KQ2-M9XD-…); look-ups accept any case, spaces and
dashes, and read O as 0 and I or L as 1, the usual misreadings.
"""
import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16
_MISREAD = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def display(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalise(text: str) -> str | None:
    """The stored form of what someone typed or scanned, or None if it cannot be a code."""
    cleaned = re.sub(r"[\s\-‐‑–—]", "", text or "").upper().translate(_MISREAD)
    if len(cleaned) != LENGTH or any(c not in ALPHABET for c in cleaned):
        return None
    return cleaned
