import { useState } from 'preact/hooks';
import { useServices } from '../context.ts';
import { navigate, paths } from '../router.ts';
import { ErrorList } from './common.tsx';

function formValues(e: Event): Record<string, string> {
  const form = e.currentTarget as HTMLFormElement;
  const out: Record<string, string> = {};
  new FormData(form).forEach((v, k) => { out[k] = typeof v === 'string' ? v : ''; });
  return out;
}

export function AuthPage({ mode }: { mode: 'login' | 'register' }) {
  const { api, auth } = useServices();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const v = formValues(e);
    setBusy(true);
    setError(null);
    try {
      const user = mode === 'login'
        ? await api.login(v.email ?? '', v.password ?? '')
        : await api.register(v.username ?? '', v.email ?? '', v.password ?? '');
      auth.signIn(user);
      navigate(paths.home());
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const login = mode === 'login';
  return (
    <div class="auth-page">
      <div class="container page">
        <div class="row">
          <div class="col-md-6 offset-md-3 col-xs-12">
            <h1 class="text-xs-center">{login ? 'Sign in' : 'Sign up'}</h1>
            <p class="text-xs-center">
              {login ? <a href={paths.register()}>Need an account?</a> : <a href={paths.login()}>Have an account?</a>}
            </p>
            <ErrorList error={error} />
            <form onSubmit={submit}>
              <fieldset disabled={busy}>
                {!login && (
                  <fieldset class="form-group">
                    <input class="form-control form-control-lg" type="text" name="username" placeholder="Username" autocomplete="username" />
                  </fieldset>
                )}
                <fieldset class="form-group">
                  <input class="form-control form-control-lg" type="email" name="email" placeholder="Email" autocomplete="email" />
                </fieldset>
                <fieldset class="form-group">
                  <input class="form-control form-control-lg" type="password" name="password" placeholder="Password"
                    autocomplete={login ? 'current-password' : 'new-password'} />
                </fieldset>
                <button class="btn btn-lg btn-primary pull-xs-right" type="submit">{login ? 'Sign in' : 'Sign up'}</button>
              </fieldset>
            </form>
          </div>
        </div>
      </div>
    </div>
  );
}

export function Settings() {
  const { api, auth } = useServices();
  const user = auth.getUser();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [v, setV] = useState({ image: user?.image ?? '', username: user?.username ?? '', bio: user?.bio ?? '', email: user?.email ?? '', password: '', currentPassword: '' });
  if (!user) return null;
  const bind = (name: keyof typeof v) => ({ name, value: v[name], onInput: (e: Event) => setV({ ...v, [name]: (e.currentTarget as HTMLInputElement).value }) });
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // The API asks for the current password to change the email or password once the sign-in is not recent.
      const update = { image: v.image, username: v.username, bio: v.bio, email: v.email, ...(v.password ? { password: v.password } : {}), ...(v.currentPassword ? { currentPassword: v.currentPassword } : {}) };
      const updated = await api.updateUser(update);
      auth.signIn({ ...updated, token: updated.token || user.token });
      navigate(paths.profile(updated.username));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const logout = () => { auth.signOut(); navigate(paths.home()); };
  return (
    <div class="settings-page">
      <div class="container page">
        <div class="row">
          <div class="col-md-6 offset-md-3 col-xs-12">
            <h1 class="text-xs-center">Your Settings</h1>
            <ErrorList error={error} />
            <form onSubmit={submit}>
              <fieldset disabled={busy}>
                <fieldset class="form-group">
                  <input class="form-control" type="text" placeholder="URL of profile picture" {...bind('image')} />
                </fieldset>
                <fieldset class="form-group">
                  <input class="form-control form-control-lg" type="text" placeholder="Your Name" {...bind('username')} />
                </fieldset>
                <fieldset class="form-group">
                  <textarea class="form-control form-control-lg" rows={8} placeholder="Short bio about you" {...bind('bio')} />
                </fieldset>
                <fieldset class="form-group">
                  <input class="form-control form-control-lg" type="email" placeholder="Email" {...bind('email')} />
                </fieldset>
                <fieldset class="form-group">
                  <input class="form-control form-control-lg" type="password" placeholder="New Password" {...bind('password')} autocomplete="new-password" />
                </fieldset>
                <fieldset class="form-group">
                  <input class="form-control" type="password" placeholder="Current password (to change the email or password)" {...bind('currentPassword')} autocomplete="current-password" />
                </fieldset>
                <button class="btn btn-lg btn-primary pull-xs-right" type="submit">Update Settings</button>
              </fieldset>
            </form>
            <hr />
            <button class="btn btn-outline-danger" type="button" onClick={logout}>Or click here to logout</button>
          </div>
        </div>
      </div>
    </div>
  );
}
