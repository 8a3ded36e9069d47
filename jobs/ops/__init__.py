"""What staff and the platform use: the admin, /health, the stats page and its chart.

May import the engine, the kind registry and jobs.models; never web or api.
"""
