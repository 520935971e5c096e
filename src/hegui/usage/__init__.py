"""Minors mode and anti-addiction: usage accounting from request activity, limits, curfew, guardians."""
