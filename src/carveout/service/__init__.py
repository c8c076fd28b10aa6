"""The carveout service: REST API, web UI and background jobs over the embedded store.

``carveout serve`` runs it with uvicorn; ``create_app(Settings(...))`` builds it for tests or embedding.
"""

from carveout.service.app import Settings, create_app

__all__ = ["Settings", "create_app"]
