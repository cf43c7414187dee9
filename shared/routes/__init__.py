"""The one route declaration (routes.json) and the request body models: the stack, the authorizer and
the local API all read them."""
