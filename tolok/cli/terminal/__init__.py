"""The work behind each command and what it prints, one module per group of commands.

A command module (`tolok.cli.results`, …) imports its module here only when the command runs:
`tolok --help` and `tolok validate` never load the store, Ibis or pandas.
"""
