"""System of record: SQLModel tables, engine and queries."""

# Every table must be in SQLModel.metadata whichever store module is imported first (migrations
# are compared against it): the guards' tables live outside models.py.
from partnerflow.store import guards as guards
