"""The HTML pages: views, forms, URLs and the outage error page.

May import the engine, the kind registry, analysis (documents) and jobs.models; never
api or ops.
"""
