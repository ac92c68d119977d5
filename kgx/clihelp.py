"""How the ``kgx`` command's ``--help`` is written: as a well-kept CLI writes it. A value is
named TEXT, PATH, INTEGER or FLOAT (Typer's default: ``<str>``, ``<path>``, ``<int range>``), a
flag has nothing after its name (Typer's: ``<bool>``), an argument is named in capitals in the
usage line, ``INPUTS...`` or ``[SPARQL]`` (Typer's: ``{inputs}...``). Only the help changes:
parsing is Typer's own."""

from __future__ import annotations

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

_METAVARS = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "path": "PATH",
             "int range": "INTEGER", "float range": "FLOAT"}


class _Option(TyperOption):
    """An option whose help shows TEXT/PATH/INTEGER for a value and nothing for a flag
    (Typer's default: ``<str>``, ``<bool>``)."""

    def display_type_rich(self, ctx):  # type: ignore[no-untyped-def]
        if self.metavar is not None or self.is_flag:
            return self.metavar or None
        label = self.display_type(ctx).strip("<>")
        if label.startswith("list[") and label.endswith("]"):
            label = label[5:-1]
        return _METAVARS.get(label, label.upper())


class _Argument(TyperArgument):
    """An argument named in capitals, in the usage line as ``INPUTS...`` or ``[SPARQL]``
    (Typer's default: ``{inputs}...``), with no Python type beside it."""

    def display_type_rich(self, ctx):  # type: ignore[no-untyped-def]
        return None

    def get_usage_pieces(self, ctx):  # type: ignore[no-untyped-def]
        name = self.display_name_raw
        name = name if self.required else f"[{name}]"
        return [name + ("..." if self.nargs != 1 else "")]


def _tidy(params: list) -> list:
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = _Option
        elif type(param) is TyperArgument:
            param.__class__ = _Argument
            if param.metavar is None and param.name:
                param.metavar = param.name.upper()
    return params


class Command(TyperCommand):
    """A kgx command: its parameters rendered as above."""

    def get_params(self, ctx):  # type: ignore[no-untyped-def]
        return _tidy(super().get_params(ctx))


class Group(TyperGroup):
    """The kgx group: its options (--version, --verbose) and every command's parameters
    rendered as above, commands added later included (no ``cls=`` to remember)."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            if type(command) is TyperCommand:
                command.__class__ = Command

    def get_params(self, ctx):  # type: ignore[no-untyped-def]
        return _tidy(super().get_params(ctx))
