"""leadroute."""
