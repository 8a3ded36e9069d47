"""Texts: documents and their extraction, sentences with offsets, ranking, and the
review and deep-dive analyses. Imports only jobs.models and each other.
"""
