"""sumar as an MCP tool with awslabs-mcp-lambda-handler (no session store: stateless)."""

from awslabs.mcp_lambda_handler import MCPLambdaHandler

mcp = MCPLambdaHandler(name="sumar-plugin", version="1.0.0")


@mcp.tool()
def sumar(numero1: float, numero2: float) -> dict:
    """Suma dos números y devuelve el resultado.

    Args:
        numero1: El primer sumando.
        numero2: El segundo sumando.
    """
    return {"resultado": numero1 + numero2}


def lambda_handler(event, context):
    return mcp.handle_request(event, context)
