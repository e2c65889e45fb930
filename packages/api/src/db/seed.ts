// Demo data, idempotent: running it again adds nothing. Users (all with DEMO_PASSWORD): johndoe, janedoe,
// alice, bob, carol; 50 articles with tags, comments, follows and favorites.
import { createPasswordHasher } from '../auth/password.js';
import { addFavorite, insertArticle } from './articles.js';
import { insertComment } from './comments.js';
import { Db, rows } from './pool.js';
import type { DatabaseTls } from '../config.js';
import { follow } from './users.js';

export const DEMO_PASSWORD = 'conduit-demo';

export interface SeedResult {
  usersCreated: number;
  articlesCreated: number;
  users: number;
  articles: number;
}

const USERS = [
  { username: 'johndoe', bio: 'I write about software and coffee.', image: null },
  { username: 'janedoe', bio: 'Platform engineer. Databases, caches, queues.', image: null },
  { username: 'alice', bio: null, image: null },
  { username: 'bob', bio: 'Front end, accessibility.', image: null },
  { username: 'carol', bio: '', image: null },
];

const TOPICS = ['Caching', 'Replication', 'Failover', 'Load balancing', 'Backups', 'Observability', 'TypeScript', 'Testing', 'Security', 'Scaling'];
const ANGLES = ['An introduction to', 'Lessons learned from', 'Five mistakes in', 'A field guide to', 'Measuring'];
const TAGS = ['devops', 'databases', 'redis', 'mariadb', 'aws', 'typescript', 'testing', 'security', 'performance', 'architecture'];

export async function seed(writerUrl: string, tls?: DatabaseTls): Promise<SeedResult> {
  const db = new Db({ writerUrl, readerUrl: writerUrl, poolSize: 2, tls });
  try {
    const w = db.writer;
    let usersCreated = 0;
    const hash = await createPasswordHasher().hash(DEMO_PASSWORD);
    for (const u of USERS) {
      const [r] = await w.query<import('mysql2').ResultSetHeader>(
        'INSERT IGNORE INTO users (username, email, password_hash, bio, image) VALUES (?, ?, ?, ?, ?)',
        [u.username, `${u.username}@example.com`, hash, u.bio === '' ? null : u.bio, u.image],
      );
      usersCreated += r.affectedRows;
    }
    const ids = new Map(
      (await rows<{ id: number; username: string }>(w, 'SELECT id, username FROM users WHERE username IN (?)', [USERS.map((u) => u.username)])).map((r) => [r.username, Number(r.id)]),
    );
    const uid = (name: string) => ids.get(name)!;
    const names = USERS.map((u) => u.username);

    let articlesCreated = 0;
    const articleIds: number[] = [];
    for (let i = 0; i < 50; i++) {
      const author = names[i % names.length]!;
      const title = `${ANGLES[i % ANGLES.length]} ${TOPICS[Math.floor(i / ANGLES.length) % TOPICS.length]!.toLowerCase()} (part ${i + 1})`;
      const existing = await rows<{ id: number }>(w, 'SELECT id FROM articles WHERE title = ? AND author_id = ?', [title, uid(author)]);
      if (existing[0]) {
        articleIds.push(Number(existing[0].id));
        continue;
      }
      const tagList = [TAGS[i % TAGS.length]!, TAGS[(i * 3 + 1) % TAGS.length]!, ...(i % 4 === 0 ? [TAGS[(i + 5) % TAGS.length]!] : [])];
      const id = await db.tx(async (conn) =>
        (await insertArticle(conn, uid(author), {
          title,
          description: `What we learned about ${TOPICS[i % TOPICS.length]!.toLowerCase()} while running Conduit.`,
          body: `## ${title}\n\nThis is demo article number ${i + 1}.\n\n${'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(8)}\n`,
          tagList: [...new Set(tagList)],
        })).id,
      );
      articlesCreated++;
      articleIds.push(id);
      // Comments only with a new article: a second run adds none.
      for (let c = 0; c < i % 3; c++) {
        await insertComment(w, id, uid(names[(i + c + 1) % names.length]!), `Comment ${c + 1} on "${title}": thanks for writing this.`);
      }
    }

    // Follows and favorites are sets: inserting them again changes nothing.
    for (const [a, b] of [['johndoe', 'janedoe'], ['johndoe', 'alice'], ['janedoe', 'johndoe'], ['alice', 'bob'], ['bob', 'carol'], ['carol', 'johndoe']] as const) {
      await follow(w, uid(a), uid(b));
    }
    for (let i = 0; i < articleIds.length; i += 3) {
      const user = uid(names[(i + 2) % names.length]!);
      await db.tx((conn) => addFavorite(conn, user, articleIds[i]!));
    }

    const [u] = await rows<{ n: number }>(w, 'SELECT COUNT(*) AS n FROM users');
    const [a] = await rows<{ n: number }>(w, 'SELECT COUNT(*) AS n FROM articles');
    return { usersCreated, articlesCreated, users: Number(u!.n), articles: Number(a!.n) };
  } finally {
    await db.close();
  }
}
