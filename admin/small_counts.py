"""Counts an association account may see: from 1 to 4 people, a count shows as "< 5" and no
share is built on it, so that nobody can be singled out; none is said as 0 (it singles out
nobody), and officials see every figure."""


def masked(count: int) -> bool:
    """Tells whether a count of people is too small to be shown on an association's page."""
    return 0 < count < 5
