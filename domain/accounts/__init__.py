"""Accounts of people who use the web front: passwords, sign-in attempts, browser sessions."""
