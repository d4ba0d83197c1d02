-- Webhook payloads stored compressed by the service, in MySQL's COMPRESS() format (the uncompressed length as 4
-- bytes, little-endian, then a zlib stream): about a third of the bytes of the JSON (3.4 KB on average) to write,
-- log and keep. Read one in SQL with CONVERT(UNCOMPRESS(payload_z) USING utf8mb4). Rows stored before keep payload.
ALTER TABLE stripe_events
  ADD COLUMN payload_z MEDIUMBLOB NULL AFTER payload,
  MODIFY payload MEDIUMTEXT NULL;
