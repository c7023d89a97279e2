"""Persistence: SQLAlchemy models, sessions, migrations and queries; the only place with SQL."""
