// Surrogate keys: the names under which the edge stores shared (anonymous) API responses, and the keys
// each write purges. One place, so that what a response is tagged with and what a write purges agree.
//
//   article-<id>   the article's page, and every list page that contains it
//   profile-<id>   the user's profile, and every article page and list page that embeds them as author
//   list           every list page (membership or order changes: create, delete, tag changes)
//   lall           the unfiltered list; ltag-<id>, lauthor-<id>, lfav-<id> the lists filtered by them
//   lunresolved    list pages whose filter named no tag or user (empty until that name exists)
//   tags           the popular tags

export const articleKey = (id: number) => `article-${id}`;
export const profileKey = (id: number) => `profile-${id}`;

export interface ListFilterIds {
  tagId: number | null;
  authorId: number | null;
  favoritedBy: number | null;
}

/** Keys of a list page: its filters (resolved ids, or unresolved), then the articles and authors on it. */
export function listKeys(filters: ListFilterIds | null, pairs: [number, number][]): string[] {
  const keys = ['list'];
  if (filters === null) keys.push('lunresolved');
  else {
    if (filters.tagId !== null) keys.push(`ltag-${filters.tagId}`);
    if (filters.authorId !== null) keys.push(`lauthor-${filters.authorId}`);
    if (filters.favoritedBy !== null) keys.push(`lfav-${filters.favoritedBy}`);
    if (filters.tagId === null && filters.authorId === null && filters.favoritedBy === null) keys.push('lall');
  }
  for (const [a, u] of pairs) keys.push(articleKey(a), profileKey(u));
  return [...new Set(keys)];
}

/** What each write purges. */
export const purgeFor = {
  createArticle: () => ['list', 'tags'],
  updateArticle: (id: number, tagsChanged: boolean) => [articleKey(id), ...(tagsChanged ? ['list', 'tags'] : [])],
  deleteArticle: (id: number) => [articleKey(id), 'list', 'tags'],
  favorite: (articleId: number, userId: number) => [articleKey(articleId), `lfav-${userId}`],
  register: () => ['lunresolved'],
  updateUser: (userId: number, changed: { username: boolean; shown: boolean }) => [
    ...(changed.username || changed.shown ? [profileKey(userId)] : []),
    ...(changed.username ? [`lauthor-${userId}`, `lfav-${userId}`, 'lunresolved'] : []),
  ],
};
