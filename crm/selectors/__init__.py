"""Reads for pages and the API, one module per area (customers, dashboard, marketing, ...)."""
