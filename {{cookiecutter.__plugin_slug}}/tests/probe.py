"""A plugin with fixed contents, for the tests of the protocols themselves (MCP framing, errors,
eras, resources, prompts, widgets). It runs on this project's runtime and manifest.json but not on
handler.py or widgets/, so those tests keep their meaning whatever you add, rename or remove.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, TypedDict

from conftest import PROJECT

from plugin_runtime import Field, OperationError, Plugin

plugin = Plugin(version="1.0.0", root=str(PROJECT))
plugin.widgets_dir = str(Path(__file__).resolve().parent / "widgets")  # the probe's own sumar.html

Numero = Annotated[float, Field(ge=-1e15, le=1e15)]


class Suma(TypedDict):
    resultado: float


@plugin.operation(read_only=True, invoking="Sumando…", invoked="Suma lista")
def sumar(numero1: Numero, numero2: Numero) -> Suma:
    """Suma dos números y devuelve el resultado.

    Args:
        numero1: El primer sumando.
        numero2: El segundo sumando.
    """
    return {"resultado": numero1 + numero2}


class Ejemplo(TypedDict):
    numero1: float
    numero2: float
    resultado: float


@plugin.resource("data://probe/ejemplos")
def ejemplos() -> list[Ejemplo]:
    """Sumas de ejemplo.

    Three sums and their results, as JSON.
    """
    return [{"numero1": a, "numero2": b, "resultado": a + b} for a, b in ((2, 3), (-1, 1), (0.5, 0.25))]


@plugin.resource("data://probe/notas/{numero}", mime_type="text/markdown")
def nota(numero: int) -> str:
    """Una nota sobre un número entero."""
    if numero < 0:
        raise OperationError("no hay notas de números negativos")
    return f"# {numero}\n\nEl doble de {numero} es {2 * numero}."


plugin.resource("file://probe/logo.png", file="logo.png", title="Logo", description="El logo del proyecto.")


@plugin.prompt
def explicar_suma(numero1: float, numero2: float = 0, detalle: Literal["breve", "completo"] = "breve") -> str:
    """Pide que se explique una suma.

    Args:
        numero1: El primer sumando.
        numero2: El segundo sumando.
        detalle: Cuánto detalle dar.
    """
    return f"Explica de forma {detalle} cuánto es {numero1:g} + {numero2:g}, y compruébalo con la herramienta sumar."


@plugin.prompt(name="revisar", title="Revisar una suma")
def revisar_suma(resultado: float) -> list:
    """Conversación de ejemplo: revisa un resultado."""
    return [f"¿Es {resultado:g} correcto?", {"role": "assistant", "content": {"type": "text", "text": "Lo compruebo."}}]
