"""Pages of the reports app (it reads every app; nothing imports it but config)."""
