"""podops core: the order model, its lifecycle and the services that change it.

This package knows no HTTP, Slack, gspread or Pillow; adapters depend on it.
"""

__version__ = "0.1.0"
