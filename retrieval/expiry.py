"""Notices past the end of validity they state: ranked below those in force, or hidden, unless the question asks
about their time (a year at or before their end)."""

from __future__ import annotations

import datetime
import re

from corpus.models import Identity

EXPIRED_POLICIES = ("mark", "hide")
_YEAR = re.compile(r"(?<!\d)(19|20)\d{2}(?=\s*年)")


class Expiry:
    """Which notices have expired for one question, asked ``today``."""

    def __init__(self, question: str, today: datetime.date) -> None:
        self.today = today
        years = [int(match.group()) for match in _YEAR.finditer(question)]
        # A question that names a year asks about that time: a notice in force then is not out of date for it.
        self.asked_before = min(years, default=None)

    def expired(self, identity: Identity) -> bool:
        """True for a notice whose stated end of validity has passed, unless it was in force in a year asked about."""
        if identity.in_force(self.today):
            return False
        return self.asked_before is None or self.asked_before > int(str(identity.valid_until)[:4])
