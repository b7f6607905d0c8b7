"""`fanflow ui`: a local web view of the journal (runs, live progress, results)."""

from ._server import make_app, serve

__all__ = ["make_app", "serve"]
