"""`python -m tolok`, the same as the `tolok` command."""

from tolok.cli import main

main()
