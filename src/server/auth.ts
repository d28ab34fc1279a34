/** Bearer-token check (constant-time comparison). */
import { createHash, timingSafeEqual } from "node:crypto";

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/**
 * True when the `Authorization` header carries `Bearer <apiKey>`. Both sides are hashed first, so the
 * comparison is constant-time and independent of the key's length.
 */
export function isAuthorized(authorizationHeader: string | undefined, apiKey: string): boolean {
  if (authorizationHeader === undefined) return false;
  const match = /^Bearer[ \t]+(.+)$/i.exec(authorizationHeader.trim());
  if (match === null || match[1] === undefined) return false;
  return timingSafeEqual(digest(match[1].trim()), digest(apiKey));
}
