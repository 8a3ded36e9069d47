"""Checks that every form of the app shares, whichever part it belongs to."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError

# Format characters (bidirectional controls, zero-width spaces), controls and separators:
# text made only of these shows nothing.
_INVISIBLE = {"Cf", "Cc", "Zs", "Zl", "Zp"}


def visible_text(value: str) -> None:
    """Refuse text that shows nothing: only spaces, or invisible format characters."""
    if not any(unicodedata.category(char) not in _INVISIBLE for char in value):
        raise ValidationError(
            "Write something visible: this holds only spaces or invisible characters.",
            code="invisible",
        )
