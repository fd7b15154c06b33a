"""The ``consortia`` command line: parse options, call the library, print.

Library errors become exit codes in :mod:`.base` and only there: 2 for bad
input or usage (with every problem listed, never a traceback), 1 for a refused
write or an audit with unwaived errors, 3 when something outside the input
failed. Each module here adds the commands of one area to :data:`main`.
"""

from . import audit, neo4j, network, viz, write  # noqa: F401  (registers the commands)
from .base import main

__all__ = ["main"]
