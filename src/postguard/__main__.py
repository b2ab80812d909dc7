"""``python -m postguard`` runs the command-line interface."""

from postguard.cli.app import main

main()
