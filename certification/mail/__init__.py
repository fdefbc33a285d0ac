"""E-mail to candidates: the invitation, the password reset, "certificate issued" (or
"reissued"), "certificate revoked" and the expiry reminder.

Messages are written to an outbox table with the change they announce and sent by queue
workers (see :mod:`certification.mail.services`); the web request never talks to a mail
server.
"""
