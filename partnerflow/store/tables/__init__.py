"""SQLModel tables by concern; ``partnerflow.store.models`` re-exports them all."""
