"""Name → class tables for the things kgx has several kinds of: input formats, RDF formats,
store flavors.

One entry adds a kind: the table in the module that owns it (``kgx.batch.inputs.INPUT_FORMATS``,
``kgx.rdf.formats.FORMATS``, ``kgx.store.flavors.FLAVORS``) maps a name to a class, or to the
``"module:attribute"`` where the class lives, loaded on first use as rdflib's plugin registry
does, so that listing the names (``kgx --help``) imports nothing. Other packages add kinds
through an entry-point group, again as rdflib does with ``rdf.plugins.serializer``::

    [project.entry-points.kgx_rdf_formats]
    hext = "my_package.hext:HextFormat"

A built-in name cannot be replaced by an entry point (a published name keeps its behaviour).
This module imports nothing of kgx.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

log = logging.getLogger("kgx")

T = TypeVar("T")


def lazy_attributes(package: str, table: Mapping[str, str], namespace: dict[str, Any]
                    ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` (PEP 562) for public names that live in
    submodules, imported on first use (and then kept in ``namespace``), so that importing the
    package stays cheap.

    package (str): the package's ``__name__``, for the error message.
    table (Mapping[str, str]): public name → the module that defines it.
    namespace (dict): the package's ``globals()``.
    """

    def getattr_(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted([*namespace, *table])

    return getattr_, dir_


def _load(ref: str) -> Any:
    module, _, attr = ref.partition(":")
    value: Any = import_module(module)
    for part in attr.split("."):
        value = getattr(value, part)
    return value


class Registry(Mapping[str, T], Generic[T]):
    """A read-only mapping name → entry: the built-in table first, then the entry points of
    ``group``. Entries given as ``"module:attribute"`` strings are imported when looked up."""

    def __init__(self, kind: str, group: str, builtins: Mapping[str, T | str]) -> None:
        """
        kind (str): What the entries are, for messages (``RDF format``).
        group (str): The entry-point group other packages register in (``kgx_rdf_formats``).
        builtins (Mapping[str, T | str]): name → entry, or → ``"module:attribute"``.
        """
        self.kind = kind
        self.group = group
        self._refs: dict[str, T | str] = dict(builtins)
        self._loaded: dict[str, T] = {}
        self._plugins: dict[str, Any] | None = None

    def _entry_points(self) -> dict[str, Any]:
        if self._plugins is None:
            self._plugins = {}
            for ep in entry_points(group=self.group):
                if ep.name in self._refs:
                    log.warning("%s %r from the entry point %s is ignored: the name is built in",
                                self.kind, ep.name, ep.value)
                else:
                    self._plugins.setdefault(ep.name, ep)
        return self._plugins

    def names(self) -> list[str]:
        """Every name, built-ins first (in table order), then entry points (sorted)."""
        return [*self._refs, *sorted(self._entry_points())]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def __contains__(self, name: object) -> bool:
        return name in self._refs or name in self._entry_points()

    def __getitem__(self, name: str) -> T:
        if name in self._loaded:
            return self._loaded[name]
        if name in self._refs:
            ref = self._refs[name]
            value = _load(ref) if isinstance(ref, str) else ref
        elif name in self._entry_points():
            value = self._entry_points()[name].load()
        else:
            raise KeyError(name)
        self._loaded[name] = value
        return value

    def get_or_raise(self, name: str) -> T:
        """The entry for ``name``; a ValueError listing the known names otherwise."""
        if name not in self:
            raise ValueError(f"unknown {self.kind} {name!r} (use one of {', '.join(self)})")
        return self[name]

    def help(self) -> str:
        """The names as the CLI lists them: ``a, b or c``."""
        names = self.names()
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
