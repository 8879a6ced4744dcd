"""HTTP edge: FastAPI REST under /api/v1, WebSocket push, agent and supervisor pages."""
