"""Helpers the tests share: factories, fixtures' data, the job functions worker
subprocesses register, the PostgreSQL test databases and the import contract type
``lint-imports`` loads (``.importlinter``). Not tests themselves."""
