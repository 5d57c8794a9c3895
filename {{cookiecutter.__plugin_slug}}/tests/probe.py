"""A plugin with one fixed operation, for the tests of the protocols themselves (MCP framing,
errors, eras). It runs on this project's runtime and manifest.json but not on handler.py, so
those tests keep their meaning whatever operations you add, rename or remove.
"""

from __future__ import annotations

from typing import Annotated, TypedDict

from conftest import PROJECT

from plugin_runtime import Field, Plugin

plugin = Plugin(version="1.0.0", root=str(PROJECT))

Numero = Annotated[float, Field(ge=-1e15, le=1e15)]


class Suma(TypedDict):
    resultado: float


@plugin.operation(read_only=True)
def sumar(numero1: Numero, numero2: Numero) -> Suma:
    """Suma dos números y devuelve el resultado.

    Args:
        numero1: El primer sumando.
        numero2: El segundo sumando.
    """
    return {"resultado": numero1 + numero2}
