import { useEffect, useState } from 'preact/hooks';
import { useServices } from '../context.ts';
import { navigate, paths } from '../router.ts';
import type { NewArticle } from '../types.ts';
import { ErrorList } from './common.tsx';

const empty: NewArticle = { title: '', description: '', body: '', tagList: [] };

export function Editor({ slug }: { slug: string | null }) {
  const { api, auth } = useServices();
  const [form, setForm] = useState<NewArticle>(empty);
  const [tagInput, setTagInput] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(slug !== null);

  useEffect(() => {
    setError(null);
    if (!slug) { setForm(empty); setBusy(false); return; }
    let live = true;
    setBusy(true);
    api.article(slug).then((a) => {
      if (!live) return;
      if (a.author.username !== auth.getUser()?.username) { navigate(paths.article(a.slug), { replace: true }); return; }
      setForm({ title: a.title, description: a.description, body: a.body ?? '', tagList: a.tagList });
      setBusy(false);
    }, (e: unknown) => { if (live) { setError(e); setBusy(false); } });
    return () => { live = false; };
  }, [slug]);

  const field = (name: keyof Omit<NewArticle, 'tagList'>) => ({
    name, value: form[name], onInput: (e: Event) => setForm({ ...form, [name]: (e.currentTarget as HTMLInputElement).value }),
  });
  const addTag = () => {
    const t = tagInput.trim();
    if (t && !form.tagList.includes(t)) setForm({ ...form, tagList: [...form.tagList, t] });
    setTagInput('');
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const pending = tagInput.trim();
      const article = { ...form, tagList: pending && !form.tagList.includes(pending) ? [...form.tagList, pending] : form.tagList };
      const saved = slug ? await api.updateArticle(slug, article) : await api.createArticle(article);
      navigate(paths.article(saved.slug));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <div class="editor-page">
      <div class="container page">
        <div class="row">
          <div class="col-md-10 offset-md-1 col-xs-12">
            <ErrorList error={error} />
            <form onSubmit={submit}>
              <fieldset disabled={busy}>
                <fieldset class="form-group">
                  <input class="form-control form-control-lg" type="text" placeholder="Article Title" {...field('title')} />
                </fieldset>
                <fieldset class="form-group">
                  <input class="form-control" type="text" placeholder="What's this article about?" {...field('description')} />
                </fieldset>
                <fieldset class="form-group">
                  <textarea class="form-control" rows={8} placeholder="Write your article (in markdown)" {...field('body')} />
                </fieldset>
                <fieldset class="form-group">
                  <input class="form-control" type="text" placeholder="Enter tags" value={tagInput}
                    onInput={(e) => setTagInput((e.currentTarget as HTMLInputElement).value)}
                    onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); addTag(); } }} />
                  <div class="tag-list">
                    {form.tagList.map((t) => (
                      <span key={t} class="tag-default tag-pill">
                        <i class="ion-close-round" role="button" aria-label={`Remove ${t}`}
                          onClick={() => setForm({ ...form, tagList: form.tagList.filter((x) => x !== t) })} />
                        {t}
                      </span>
                    ))}
                  </div>
                </fieldset>
                <button class="btn btn-lg pull-xs-right btn-primary" type="submit">Publish Article</button>
              </fieldset>
            </form>
          </div>
        </div>
      </div>
    </div>
  );
}
