-- How a dump's files were encrypted: {"age": {"recipients": [...]}, "plaintext": {file: {bytes, sha256}}}.
-- sha256 keeps the stored (encrypted) bytes' checksums, which verify checks without a key; null: plaintext.
alter table pgbackman.backup_runs add column encryption jsonb;
