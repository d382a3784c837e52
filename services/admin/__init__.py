"""`python -m services.admin`: the first admin, users, API keys and display tokens, from a shell
on a machine that can reach the database (CAMPAIGNS_DATABASE_URL)."""
