"""The job kinds: one module each (form, stages, run function, result template,
downloads), plus what the document kinds share (sources, asking, reports).

May import the engine's reporting interface (context, registry), analysis, provider and
jobs.models; never web, api or ops.
"""
