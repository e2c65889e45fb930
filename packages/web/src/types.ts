// Shapes of the RealWorld API (../../shared/realworld/openapi.yml), as the SPA uses them.
export interface User { username: string; email: string; bio: string | null; image: string | null; token: string }
export interface Profile { username: string; bio: string | null; image: string | null; following: boolean }
export interface Article {
  slug: string; title: string; description: string; body?: string; tagList: string[];
  createdAt: string; updatedAt: string; favorited: boolean; favoritesCount: number; author: Profile;
}
export interface Comment { id: number; createdAt: string; updatedAt: string; body: string; author: Profile }
export interface ArticleList { articles: Article[]; articlesCount: number }
export interface NewArticle { title: string; description: string; body: string; tagList: string[] }
export interface UserUpdate { email?: string; username?: string; password?: string; bio?: string | null; image?: string | null; currentPassword?: string }
export interface ArticleQuery { tag?: string; author?: string; favorited?: string; limit?: number; offset?: number }
