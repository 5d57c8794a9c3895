"""sumar with AWS Lambda Powertools' APIGatewayHttpResolver, no validation (the body is read by hand)."""

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

app = APIGatewayHttpResolver()


@app.post("/sumar")
def sumar() -> dict:
    body = app.current_event.json_body
    return {"resultado": body["numero1"] + body["numero2"]}


def lambda_handler(event, context):
    return app.resolve(event, context)
