// Image URLs from users (avatars): only http(s) or same-origin paths reach an <img src>.
/** A URL fit for an <img src>: http(s) or same-origin path, anything else falls back. */
export function safeImageUrl(url: string | null | undefined, fallback: string): string {
  if (!url || !url.trim()) return fallback;
  const u = url.trim();
  if (/^https?:\/\//i.test(u) || (u.startsWith('/') && !u.startsWith('//'))) return u;
  return fallback;
}

export const DEFAULT_AVATAR = '/default-avatar.svg';

export function avatar(url: string | null | undefined): string {
  return safeImageUrl(url, DEFAULT_AVATAR);
}
