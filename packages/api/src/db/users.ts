// Users, profiles and follows: plain SQL, one function per question the routes ask.
import { exec, rows, type Queryable } from './pool.js';

export interface UserRecord {
  id: number;
  username: string;
  email: string;
  passwordHash: string;
  bio: string | null;
  image: string | null;
  /** Incremented by every password change: tokens signed with an older one are refused. */
  tokenVersion: number;
}

export interface AuthorRecord {
  id: number;
  username: string;
  bio: string | null;
  image: string | null;
}

interface UserRow {
  id: number;
  username: string;
  email: string;
  password_hash: string;
  bio: string | null;
  image: string | null;
  token_version: number;
}

const toUser = (r: UserRow): UserRecord => ({
  id: Number(r.id), username: r.username, email: r.email, passwordHash: r.password_hash, bio: r.bio, image: r.image,
  tokenVersion: Number(r.token_version),
});

const USER_COLS = 'id, username, email, password_hash, bio, image, token_version';

/** The user's token version, or null when the user does not exist. */
export async function findTokenVersion(q: Queryable, id: number): Promise<number | null> {
  const r = await rows<{ token_version: number }>(q, 'SELECT token_version FROM users WHERE id = ?', [id]);
  return r[0] ? Number(r[0].token_version) : null;
}

/** Stores a rehash of the same password, unless the hash changed meanwhile (a password change wins). */
export async function replacePasswordHash(q: Queryable, id: number, oldHash: string, newHash: string): Promise<void> {
  await exec(q, 'UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?', [newHash, id, oldHash]);
}

export async function findUserById(q: Queryable, id: number): Promise<UserRecord | null> {
  const r = await rows<UserRow>(q, `SELECT ${USER_COLS} FROM users WHERE id = ?`, [id]);
  return r[0] ? toUser(r[0]) : null;
}

export async function findUserByEmail(q: Queryable, email: string): Promise<UserRecord | null> {
  const r = await rows<UserRow>(q, `SELECT ${USER_COLS} FROM users WHERE email = ?`, [email]);
  return r[0] ? toUser(r[0]) : null;
}

export async function findAuthorByUsername(q: Queryable, username: string): Promise<AuthorRecord | null> {
  const r = await rows<AuthorRecord>(q, 'SELECT id, username, bio, image FROM users WHERE username = ?', [username]);
  return r[0] ? { ...r[0], id: Number(r[0].id) } : null;
}

/** Which of `usernames`/`emails` are taken (by someone other than exceptId). */
export async function takenFields(q: Queryable, username: string | null, email: string | null, exceptId = 0): Promise<{ username: boolean; email: boolean }> {
  const r = await rows<{ username: string; email: string }>(
    q,
    'SELECT username, email FROM users WHERE (username = ? OR email = ?) AND id <> ?',
    [username ?? '', email ?? '', exceptId],
  );
  const eq = (a: string, b: string | null) => b !== null && a.localeCompare(b, undefined, { sensitivity: 'accent' }) === 0;
  return {
    username: r.some((x) => eq(x.username, username)),
    email: r.some((x) => eq(x.email, email)),
  };
}

export async function insertUser(q: Queryable, u: { username: string; email: string; passwordHash: string }): Promise<number> {
  const r = await exec(q, 'INSERT INTO users (username, email, password_hash) VALUES (?, ?, ?)', [u.username, u.email, u.passwordHash]);
  return r.insertId;
}

export interface UserPatch {
  username?: string;
  email?: string;
  passwordHash?: string;
  bio?: string | null;
  image?: string | null;
}

export async function updateUser(q: Queryable, id: number, patch: UserPatch): Promise<void> {
  const sets: string[] = [];
  const params: unknown[] = [];
  const cols: [keyof UserPatch, string][] = [['username', 'username'], ['email', 'email'], ['passwordHash', 'password_hash'], ['bio', 'bio'], ['image', 'image']];
  for (const [k, col] of cols) {
    if (patch[k] !== undefined) {
      sets.push(`${col} = ?`);
      params.push(patch[k]);
    }
  }
  if (sets.length === 0) return;
  // A new password ends every session signed before it (the tokens carry the old version).
  if (patch.passwordHash !== undefined) sets.push('token_version = token_version + 1');
  sets.push('updated_at = CURRENT_TIMESTAMP(3)');
  await exec(q, `UPDATE users SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
}

/** The subset of candidateIds that followerId follows. */
export async function followedAmong(q: Queryable, followerId: number, candidateIds: number[]): Promise<Set<number>> {
  if (candidateIds.length === 0) return new Set();
  const r = await rows<{ followee_id: number }>(
    q,
    'SELECT followee_id FROM follows WHERE follower_id = ? AND followee_id IN (?)',
    [followerId, [...new Set(candidateIds)]],
  );
  return new Set(r.map((x) => Number(x.followee_id)));
}

export async function follow(q: Queryable, followerId: number, followeeId: number): Promise<void> {
  await exec(q, 'INSERT IGNORE INTO follows (follower_id, followee_id) VALUES (?, ?)', [followerId, followeeId]);
}

export async function unfollow(q: Queryable, followerId: number, followeeId: number): Promise<void> {
  await exec(q, 'DELETE FROM follows WHERE follower_id = ? AND followee_id = ?', [followerId, followeeId]);
}
