import type { ComponentChildren } from 'preact';
import { errorMessages } from '../api.ts';
import { avatar } from '../images.ts';
import { paths } from '../router.ts';

/** API validation errors and network failures, one line each. Renders nothing without errors. */
export function ErrorList({ error, messages }: { error?: unknown; messages?: string[] }) {
  const list = messages ?? (error ? errorMessages(error) : []);
  if (list.length === 0) return null;
  return <ul class="error-messages">{list.map((m) => <li key={m}>{m}</li>)}</ul>;
}

export function Avatar({ src, class: cls, alt }: { src: string | null | undefined; class?: string; alt?: string }) {
  return <img src={avatar(src)} class={cls} alt={alt ?? ''} />;
}

export function TagList({ tags, outline = true }: { tags: string[]; outline?: boolean }) {
  if (tags.length === 0) return null;
  return (
    <ul class="tag-list">
      {tags.map((t) => (
        <li key={t}><a href={paths.tag(t)}><span class={`tag-default tag-pill${outline ? ' tag-outline' : ''}`}>{t}</span></a></li>
      ))}
    </ul>
  );
}

export function Pagination({ count, limit, page, href }: { count: number; limit: number; page: number; href: (p: number) => string }) {
  const pages = Math.ceil(count / limit);
  if (pages <= 1) return null;
  return (
    <nav>
      <ul class="pagination">
        {Array.from({ length: pages }, (_, i) => i + 1).map((p) => (
          <li key={p} class={`page-item${p === page ? ' active' : ''}`}>
            <a class="page-link" href={href(p)}>{p}</a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export function Page({ class: cls, children }: { class: string; children: ComponentChildren }) {
  return <div class={cls}>{children}</div>;
}
