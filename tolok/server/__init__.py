"""The tolok server: sign-in, the JSON API, share links (and, later, the board's pages)."""
