"""Accounts: users and roles, passwords, one-time links and API tokens.

The domain lives in ``models`` and ``services``; ``views`` is the face (login pages).
"""
