"""GraphiQL served from the server itself: the page, its pinned npm releases and their refresh."""
