"""satwatch: space-domain awareness and launch monitoring in Python."""
from .api import *          # noqa: F401,F403
from .api import __all__    # noqa: F401
from .api import __getattr__  # noqa: F401  (the analyses, imported on first use)

__version__ = "0.1.0"
