"""The job engine: submitting, dispatching, running, recovering and pruning jobs, and the
interface kinds report through (registry.py, context.py).

May import jobs.models and django_q (the only package that does); never kinds, analysis,
provider, web, api or ops (kinds are loaded by path, from settings.JOB_KIND_MODULES).
"""
