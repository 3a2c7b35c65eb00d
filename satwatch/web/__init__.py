"""satwatch's web face: the REST API and the page (``create_app(settings)``)."""
from .app import create_app
from .settings import Limits, Settings

__all__ = ["create_app", "Settings", "Limits"]
