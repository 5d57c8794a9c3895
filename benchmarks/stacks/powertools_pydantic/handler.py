"""sumar with Powertools' APIGatewayHttpResolver and its Pydantic validation (enable_validation=True)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from pydantic import BaseModel, Field

app = APIGatewayHttpResolver(enable_validation=True)
Numero = Annotated[float, Field(ge=-1e15, le=1e15)]


class Sumandos(BaseModel):
    numero1: Numero
    numero2: Numero


class Suma(BaseModel):
    resultado: float


@app.post("/sumar")
def sumar(body: Sumandos) -> Suma:
    return Suma(resultado=body.numero1 + body.numero2)


def lambda_handler(event, context):
    return app.resolve(event, context)
