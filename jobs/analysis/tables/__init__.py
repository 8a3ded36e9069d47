"""Tables: connected databases, column profiles and roles, and the semantic model built,
described and validated from them. Imports only jobs.models, Django's db and each other.
"""
