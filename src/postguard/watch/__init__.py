"""The watch: reading what the department's accounts actually published (issue 14)."""
