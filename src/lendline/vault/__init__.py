"""The recording vault at the edge: blob storage (local folder or S3), the recording index in
the database, key rotation, retention and purge. The crypto is ``compliance.envelope``."""
