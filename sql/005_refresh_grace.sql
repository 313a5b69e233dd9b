-- Concurrent refresh (issue 9): two tabs presenting the same refresh token at once must both get
-- the new pair instead of one of them revoking the session as "reuse". For REFRESH_REUSE_GRACE_SECONDS
-- after a rotation, the rotated token may be presented again and returns the same successor.
--
-- The successor is kept sealed (AES-256-GCM) under a key derived (HKDF) from the rotated token
-- itself. The database holds only the SHA-256 of that token, so it alone never reveals a usable
-- refresh token: only someone presenting the old token can open it (src/auth/refresh-successor.ts).
-- A rotation clears the sealed successors of its session whose grace has passed.
ALTER TABLE refresh_tokens ADD COLUMN successor_sealed bytea;
