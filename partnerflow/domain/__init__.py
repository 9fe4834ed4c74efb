"""Pure types and rules shared by workflows, activities and the API (no I/O)."""
