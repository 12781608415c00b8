"""The REST API's shared pieces (authentication, errors, pagination, schema) and the region endpoints."""
