"""System of record: SQLModel tables, engine and queries."""
