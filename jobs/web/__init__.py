"""The HTML pages: views, forms, URLs and the outage error page; My jobs' bulk actions
(`bulk.py`) and when Run again asks first (`reruns.py`).

May import the engine, the kind registry, analysis (documents) and jobs.models; never
api or ops.
"""
