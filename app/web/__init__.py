"""What the pages (app/views) and the REST API (app/api) share: FAB filters narrowing a query to
what scopes.py lets the user see, and stored files sent back the same way from every path.
Above the services, below every adapter, so that neither adapter imports the other."""
