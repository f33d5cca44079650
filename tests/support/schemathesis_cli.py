"""Schemathesis' command line, guarded against a CPython 3.11 bug that is not Pulse's.

On Python 3.11.7, `ast.parse` called deep in a recursion may raise a spurious
`SystemError: AST constructor recursion depth mismatch` (CPython gh-106905). Hypothesis calls it
only to *describe* a lambda while validating a strategy (for a repr), and the error then fails the
whole run with nothing wrong in the API under test. A description is all that is lost here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from hypothesis.internal import lambda_sources

_describe: Callable[[Any], str] = lambda_sources.lambda_description


def _describe_safely(f: Any) -> str:
    try:
        return _describe(f)
    except SystemError:
        return "lambda: <source not described>"


lambda_sources.lambda_description = _describe_safely

if __name__ == "__main__":
    from schemathesis.cli import schemathesis

    sys.exit(schemathesis())
