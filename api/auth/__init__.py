"""Who is asking: sessions, API tokens, guards, sign-in and the security middleware."""
