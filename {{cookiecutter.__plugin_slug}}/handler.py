"""Your plugin's operations: edit this file, then run `terraform apply`.

Each typed function decorated with ``@plugin.operation`` becomes, with nothing else to write:
an HTTP route (POST /<name>), an operation in openapi.json (GPT Actions) and a tool of the MCP
server at /mcp. Type hints become the JSON schema and are enforced; the docstring becomes the
descriptions the model reads. Raise ``OperationError`` to refuse an input with a message.

widgets/<name>.html, when it exists, is the tool's widget: ChatGPT and other MCP Apps hosts show
it with the result (preview it with `make serve`, then http://127.0.0.1:8080/_preview).
``@plugin.resource`` and ``@plugin.prompt`` publish resources and prompts the same way.
"""

from typing import Annotated, TypedDict

from plugin_runtime import Field, Plugin

plugin = Plugin(version="1.0.0")

# Bounds keep every sum a finite number, so the documented contract never answers an error.
Numero = Annotated[float, Field(ge=-1e15, le=1e15)]


class Suma(TypedDict):
    resultado: float


@plugin.operation(read_only=True, invoking="Sumando…", invoked="Suma lista")
def sumar(numero1: Numero, numero2: Numero) -> Suma:
    """Suma dos números y devuelve el resultado.

    Use it whenever the user asks to add two numbers; it answers exactly.

    Args:
        numero1: El primer sumando.
        numero2: El segundo sumando.
    """
    return {"resultado": numero1 + numero2}


lambda_handler = plugin.lambda_handler
