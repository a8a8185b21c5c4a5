"""Who may do what: accounts and passwords, roles, API tokens, share links, sign-in sessions."""
