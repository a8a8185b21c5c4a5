"""One module per page: a `data(...)` function returning the page's pydantic model, which
the routes render as HTML or as JSON (`….json`)."""
