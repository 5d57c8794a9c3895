"""Development tools for the project: build, check, serve, invoke. None of this goes into
lambda.zip; they import the runtime (plugin_runtime), never the other way round.

    python3 -m plugin_tools.build     # openapi.json and lambda.zip
    python3 -m plugin_tools.check     # lint the documents against each surface's rules
    python3 -m plugin_tools.serve     # every surface on http://127.0.0.1:8080
    python3 -m plugin_tools.invoke events/post_sumar.json    # --as NAME: as a signed-in caller

dev_oidc is the development identity provider serve runs for auth = oauth (local only).
"""
