"""The satwatch exception and warning tree.

Every error satwatch raises on purpose is a :class:`SatwatchError`.  Errors
about input carry where the bad input was (file, line, field) so that the
message alone tells the user what to fix.
"""
from __future__ import annotations


class SatwatchError(Exception):
    """Base class of every error satwatch raises on purpose."""


class ElementsError(SatwatchError, ValueError):
    """An element set (TLE, 3LE, OMM) could not be read.

    ``source`` is the file name or URL (or ``"<string>"``), ``line`` the
    1-based line number in it (``None`` where the format has no lines, as in
    JSON), ``field`` the name of the offending field.
    """

    def __init__(self, reason: str, *, source: str | None = None,
                 line: int | None = None, field: str | None = None):
        self.reason = reason
        self.source = source
        self.line = line
        self.field = field
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.source:
            where.append(str(self.source))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field {self.field}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.reason}" if prefix else self.reason

    def located(self, *, source: str | None = None,
                line_offset: int = 0) -> "ElementsError":
        """A copy of this error placed in a file, lines shifted by an offset."""
        line = None if self.line is None else self.line + line_offset
        return ElementsError(self.reason, source=source or self.source,
                             line=line, field=self.field)


class TimeError(SatwatchError, ValueError):
    """A time could not be parsed or lies outside the supported range."""


class CatalogError(SatwatchError, LookupError):
    """A satellite asked for is not in the catalog, or a catalog is empty."""


class SourceError(SatwatchError):
    """A catalog source (file, directory, URL, service) could not be read."""


class SatwatchWarning(UserWarning):
    """Base class of satwatch's warnings."""


class StaleElementsWarning(SatwatchWarning):
    """Propagation far from an element set's epoch: accuracy degrades with age
    (a TLE is good to about a kilometre at epoch, and grows by km per day)."""
