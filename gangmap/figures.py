"""One rule for every matplotlib figure gangmap draws: text is drawn as written.

matplotlib reads ``$...$`` in any text as TeX: a ward called ``St John's $ Co`` or
a title ``Rate $x_1$`` is drawn as a formula, or fails to draw at all (``$\\nope{$``
raises). Names and titles come from the data and from users, so every function
that builds a figure is wrapped in :func:`literal_text`: each text it creates
(titles, labels, legends, annotations, the marking and footer) keeps
``parse_math=False``, however the figure is drawn or saved later.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["literal_text"]

F = TypeVar("F", bound=Callable[..., Any])


def literal_text(build: F) -> F:
    """Decorate a figure-building function so that every text it creates is drawn literally."""

    @functools.wraps(build)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import matplotlib  # lazy: importing gangmap loads no plotting library

        with matplotlib.rc_context({"text.parse_math": False}):
            return build(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
