"""The job engine: submitting, dispatching, running, recovering and pruning jobs, and the
interface kinds report through (registry.py, context.py).

Its public surface: submitting.py (submit, cancel, retry), context.py (what a kind reports
through), registry.py and timeline.py (kinds, stages and how they are shown), dispatch.py
(a job's place in line), queue.py (which clusters are alive). The worker's internals live
in worker/, which only tasks.py, running.py, jobs.apps and the commands import.

May import jobs.models and django_q (the only package that does); never kinds, analysis,
provider, web, api or ops (kinds are loaded by path, from settings.JOB_KIND_MODULES).
"""
