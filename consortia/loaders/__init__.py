"""Loaders for the interchange format (shared/data-model.md): CSV folders and workbooks."""

from .load import load_registry

__all__ = ["load_registry"]
