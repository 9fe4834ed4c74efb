"""The HTTP API: thin FastAPI layer over the store and the workflows."""
