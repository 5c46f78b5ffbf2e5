"""The explorer: a web site, in Dutch, where anyone sees who may decide what and checks the log in
their own browser. Server-rendered pages (Jinja2) at `/`, each the answer to one stored GraphQL
operation (operations/) run in the process as the public: the same query layer and the same
visibility as the API, and each page has a JSON twin with that answer."""
