"""The headless core: everything the command line, the app and tests share. No Qt here."""
