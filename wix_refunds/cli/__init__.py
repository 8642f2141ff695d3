"""The ``wix-refunds`` command: refunds, batches, status and reconcile for people at a terminal."""

from ._main import main

__all__ = ["main"]
