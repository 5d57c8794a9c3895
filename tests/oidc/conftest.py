"""tests/oidc holds the npm project of the OAuth stand-in (provider.mjs), no tests: pytest need not
walk its node_modules (pyproject's norecursedirs replaces pytest's default, which skips them)."""

collect_ignore = ["node_modules"]
