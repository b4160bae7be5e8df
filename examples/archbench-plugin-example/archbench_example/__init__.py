"""Example archbench plugin package (see the README's "Add an architecture")."""
