import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The successor of a rotated refresh token, sealed under a key only the rotated token yields
 * (sql/005_refresh_grace.sql explains why). The key is HKDF-SHA256 of the token with its own
 * label, so it has nothing in common with the SHA-256 the database stores to look tokens up.
 * Layout: 12-byte IV | ciphertext | 16-byte GCM tag.
 */
const INFO = 'parley refresh-token successor v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function keyOf(presentedToken: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(presentedToken, 'utf8'), Buffer.alloc(0), INFO, 32));
}

export function sealSuccessor(presentedToken: string, successor: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyOf(presentedToken), iv);
  cipher.setAAD(Buffer.from(INFO));
  const body = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** The successor, or null when the sealed value was not made with this token (or was altered). */
export function openSuccessor(presentedToken: string, sealed: Buffer): string | null {
  if (sealed.length < IV_BYTES + TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(presentedToken), sealed.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(INFO));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
