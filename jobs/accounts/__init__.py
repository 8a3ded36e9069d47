"""People's accounts: the profile page (name, e-mail address confirmed by a link,
password), invitations, password reset, the list of one's sessions and tokens, and the
pause before a failed login (the lock itself is django-axes').

`views.py`, `urls.py`, `forms.py` are the pages under /accounts/; `invitations.py`,
`email_change.py`, `sessions.py`, `devices.py` and `links.py` the plain functions they
call; `middleware.py` keeps a session's "last seen"; `admin.py` is the staff's
invitation page.
May import jobs.models, jobs.lib.clients and django-axes; never web, api or ops.
"""
