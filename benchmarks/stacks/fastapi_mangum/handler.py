"""sumar with FastAPI (Pydantic validation) behind Mangum, the usual ASGI-on-Lambda adapter."""

from typing import Annotated

from fastapi import FastAPI
from mangum import Mangum
from pydantic import BaseModel, Field

app = FastAPI()
Numero = Annotated[float, Field(ge=-1e15, le=1e15)]


class Sumandos(BaseModel):
    numero1: Numero
    numero2: Numero


class Suma(BaseModel):
    resultado: float


@app.post("/sumar")
async def sumar(body: Sumandos) -> Suma:  # async: no thread-pool hop per request
    return Suma(resultado=body.numero1 + body.numero2)


lambda_handler = Mangum(app, lifespan="off")
