"""sumar as a tool of the official MCP SDK (MCPServer), stateless streamable HTTP with JSON
responses, served on Lambda through Mangum.

The SDK's session manager must run inside one long-lived task (its lifespan) and may be started
only once, while Mangum would run the lifespan on every invocation; so the lifespan is started
once, on one event loop kept for the life of the process, and Mangum runs every request on it.
"""

import asyncio
from typing import Annotated

from mangum import Mangum
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import Field

Numero = Annotated[float, Field(ge=-1e15, le=1e15)]
server = MCPServer("sumar-plugin")


@server.tool(annotations={"readOnlyHint": True})
def sumar(numero1: Numero, numero2: Numero) -> dict[str, float]:
    """Suma dos números y devuelve el resultado.

    Args:
        numero1: El primer sumando.
        numero2: El segundo sumando.
    """
    return {"resultado": numero1 + numero2}


app = server.streamable_http_app(
    stateless_http=True, json_response=True,
    transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
)
loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)


async def _lifespan(started: asyncio.Event) -> None:
    async with app.router.lifespan_context(app):
        started.set()
        await asyncio.Event().wait()  # held open for the life of the process


_tasks: set = set()  # a reference keeps the lifespan task from being garbage-collected


async def _start() -> None:
    started = asyncio.Event()
    _tasks.add(loop.create_task(_lifespan(started)))
    await started.wait()


loop.run_until_complete(_start())
lambda_handler = Mangum(app, lifespan="off")
