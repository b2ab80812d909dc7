"""The API's routers, one module per area; each is thin and calls the core."""
