"""Reference data shipped with the package (each folder has its license)."""
