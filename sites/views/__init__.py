"""HTML views of the sites app: the public catalogue and the staff pages."""
