"""Counts an association's pages may show: under 5 people, a count shows as "< 5" and no
share is built on it, so that nobody can be singled out."""


def masked(count: int) -> bool:
    """Tells whether a count of people is too small to be shown on an association's page."""
    return count < 5
