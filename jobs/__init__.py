"""The one Django app: jobs, their documents and API tokens (models.py), in parts.

engine/ runs jobs; kinds/ are what jobs do; analysis/ and provider/ do the work the kinds
ask for; web/, api/ and ops/ are the pages, the JSON API and the staff's tools. Imports
run one way, from the outside in (pyproject.toml's import-linter contracts, `make lint`).
"""
